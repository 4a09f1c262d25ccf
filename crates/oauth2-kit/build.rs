//! Copies the guide's pages (`guide/*.md`, the repository's `docs/`) for the crate's rustdoc,
//! with the links between pages turned into links between the `guide` modules, so that they
//! work on docs.rs as they do on the repository's web page.

use std::fs;
use std::io;
use std::path::Path;

fn main() -> io::Result<()> {
    let out = Path::new(&std::env::var_os("OUT_DIR").ok_or_else(|| io::Error::other("OUT_DIR unset"))?)
        .join("guide");
    fs::create_dir_all(&out)?;
    println!("cargo::rerun-if-changed=guide");
    let pages: Vec<String> = fs::read_dir("guide")?
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| name.ends_with(".md"))
        .collect();
    for page in &pages {
        println!("cargo::rerun-if-changed=guide/{page}");
        let text = fs::read_to_string(Path::new("guide").join(page))?;
        fs::write(out.join(page), linked(&text, &pages))?;
    }
    Ok(())
}

/// `text` with every `](page.md)` or `](page.md#anchor)` naming another page of the guide
/// turned into an intra-doc link to its module (`](crate::guide::page#anchor)`); code blocks are
/// left as they are.
fn linked(text: &str, pages: &[String]) -> String {
    let mut result = String::with_capacity(text.len());
    let mut in_code = false;
    for line in text.split_inclusive('\n') {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
        }
        if in_code {
            result.push_str(line);
            continue;
        }
        let mut line = line.to_owned();
        for page in pages {
            let module = page.trim_end_matches(".md").replace('-', "_");
            line = line
                .replace(&format!("]({page})"), &format!("](crate::guide::{module})"))
                .replace(&format!("]({page}#"), &format!("](crate::guide::{module}#"));
        }
        result.push_str(&line);
    }
    result
}
