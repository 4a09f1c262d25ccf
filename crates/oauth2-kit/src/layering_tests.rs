//! The core's modules import each other in one direction only: no circle, so every lower
//! layer (errors, values, the wire format) builds and reads without the grants and features
//! above it. Checked here on the sources, so a new circle fails the tests.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The top-level module a source file belongs to (`grant/password.rs` → `grant`).
fn module_of(relative: &Path) -> String {
    let first = relative.components().next().map(|c| c.as_os_str().to_string_lossy().into_owned());
    first.unwrap_or_default().trim_end_matches(".rs").to_owned()
}

/// The names the crate root re-exports (`pub use crate::grant::password::PasswordGrant;` in
/// `lib.rs`), each with the top-level module it comes from, so that `crate::PasswordGrant`
/// counts as a use of `grant`.
fn root_reexports(lib: &str) -> BTreeMap<String, String> {
    let mut names = BTreeMap::new();
    for statement in lib.split("pub use crate::").skip(1) {
        let statement = statement.split(';').next().unwrap_or_default();
        let module: String = statement.chars().take_while(|c| c.is_ascii_lowercase() || *c == '_').collect();
        for piece in statement.split(['{', '}', ',']) {
            let name = piece.rsplit("::").next().unwrap_or_default().trim();
            if !name.is_empty() && name != module {
                names.insert(name.to_owned(), module.clone());
            }
        }
    }
    names
}

/// The top-level modules a source text names through `crate::`, outside comments and tests:
/// paths (`crate::grant::Foo`), groups (`use crate::{grant::Foo, http}`, over several lines),
/// and the root's re-exports (`crate::Scope` is a use of `scope`).
fn imports(text: &str, roots: &BTreeMap<String, String>) -> BTreeSet<String> {
    let code = text.split("#[cfg(test)]\nmod ").next().unwrap_or_default();
    let code: String =
        code.lines().filter(|line| !line.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n");
    let mut found = BTreeSet::new();
    let mut name_at = |tail: &str| {
        let name: String = tail.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
        if let Some(module) = roots.get(&name) {
            found.insert(module.clone());
        } else if !name.is_empty()
            && name != "self"
            && name.chars().all(|c| c.is_ascii_lowercase() || c == '_')
        {
            found.insert(name);
        }
    };
    for (at, _) in code.match_indices("crate::") {
        let rest = code.get(at + "crate::".len()..).unwrap_or_default();
        let Some(group) = rest.strip_prefix('{') else {
            name_at(rest);
            continue;
        };
        // Each member of the group at depth 0 starts with a module or a re-exported name.
        let mut depth = 0usize;
        let mut member_start = true;
        for (offset, c) in group.char_indices() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => break,
                '}' => depth -= 1,
                ',' if depth == 0 => member_start = true,
                c if member_start && !c.is_whitespace() => {
                    member_start = false;
                    name_at(group.get(offset..).unwrap_or_default());
                }
                _ => {}
            }
        }
    }
    found
}

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let roots = root_reexports(&std::fs::read_to_string(src.join("lib.rs")).unwrap_or_default());
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let relative = path.strip_prefix(&src).unwrap_or(&path);
                let module = module_of(relative);
                if module == "lib" || module == "layering_tests" {
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                let targets: Vec<String> =
                    imports(&text, &roots).into_iter().filter(|target| *target != module).collect();
                graph.entry(module).or_default().extend(targets);
            }
        }
    }
    graph
}

#[test]
fn imports_are_read_from_paths_and_groups() {
    let roots = root_reexports("pub use crate::scope::{Scope, ScopeError};\npub use crate::clock::Clock;\n");
    assert_eq!(roots.get("ScopeError").map(String::as_str), Some("scope"));
    let text = "use crate::error::Error;\nuse crate::{\n    grant::{password, refresh},\n    http,\n    Scope,\n};\n// use crate::bearer::X;\nfn f() { crate::token::parse(); let _ = crate::Clock::now; }\n#[cfg(test)]\nmod tests { use crate::cache::Y; }";
    let found: Vec<String> = imports(text, &roots).into_iter().collect();
    assert_eq!(found, ["clock", "error", "grant", "http", "scope", "token"]);
}

#[test]
fn the_modules_form_no_circle() {
    let graph = graph();
    assert!(graph.len() > 20, "read {} modules", graph.len());
    // Remove modules that import nothing left, until none is left: what remains is a circle.
    let mut left = graph.clone();
    loop {
        let done: Vec<String> = left
            .iter()
            .filter(|(_, targets)| targets.iter().all(|t| !left.contains_key(t)))
            .map(|(m, _)| m.clone())
            .collect();
        if done.is_empty() {
            break;
        }
        for module in done {
            left.remove(&module);
        }
    }
    assert!(left.is_empty(), "modules importing each other in a circle: {left:#?}");
}

#[test]
fn the_check_sees_a_circle() {
    assert_eq!(
        imports(
            "use crate::error::{Error, Result};\n// crate::grant::x\nlet x = crate::token::TokenType::Bearer;",
            &BTreeMap::new(),
        ),
        BTreeSet::from(["error".to_owned(), "token".to_owned()])
    );
    assert!(imports("#[cfg(test)]\nmod tests { use crate::grant::X; }", &BTreeMap::new()).is_empty());
}
