//! `cram mcp`: raw protocol errors from Rust, and the whole server under the
//! official MCP Python SDK (`mcp` from PyPI, pinned, in a throwaway venv).

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{Value, json};

use crate::util::{bundled_paths, require_model, root};

/// The MCP client SDK version the test installs.
const MCP_SDK: &str = "1.30.0";

/// Search calls in the soak (`CRAM_MCP_SOAK` overrides; the README's numbers use 10,000).
const SOAK_CALLS: &str = "2000";

fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// `cram mcp` wired to the shared index of the bundled notes.
fn cram_mcp() -> Command {
    let p = bundled_paths();
    let mut c = Command::new(env!("CARGO_BIN_EXE_cram"));
    c.arg("mcp")
        .env("CRAM_CORPUS", root().join("corpus"))
        .env("CRAM_INDEX", &p.index)
        .env("CRAM_MODEL_DIR", &p.model_dir)
        .env("NO_COLOR", "1");
    c
}

#[test]
fn raw_bad_input_gets_errors_and_the_server_keeps_serving() {
    if !require_model() {
        return;
    }
    let mut child = cram_mcp()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let mut output = BufReader::new(child.stdout.take().unwrap());
    let mut ask = |line: &[u8], replies: bool| -> Value {
        input.write_all(line).unwrap();
        input.write_all(b"\n").unwrap();
        input.flush().unwrap();
        if !replies {
            return Value::Null;
        }
        let mut reply = String::new();
        output.read_line(&mut reply).unwrap();
        serde_json::from_str(&reply).unwrap_or_else(|e| panic!("{e}: {reply:?}"))
    };
    let code = |v: &Value| v["error"]["code"].as_i64();
    let before = ask(br#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#, true);
    assert_eq!(code(&before), Some(-32600), "{before}");
    assert!(
        before["error"]["message"]
            .as_str()
            .unwrap()
            .contains("initialize")
    );
    // A notification before initialize is ignored (rmcp's own stdio
    // transport would end the session here), and the next line is answered.
    ask(
        br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
        false,
    );
    let parse = ask(b"{not json", true);
    assert_eq!(code(&parse), Some(-32700));
    assert!(
        parse["id"].is_null() && parse.get("id").is_some(),
        "{parse}"
    );
    let init = json!({"jsonrpc": "2.0", "id": 2, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}});
    let init = ask(init.to_string().as_bytes(), true);
    assert_eq!(init["result"]["protocolVersion"], "2025-06-18", "{init}");
    assert_eq!(
        code(&ask(br#"{"jsonrpc":"2.0","id":3,"method":"nope"}"#, true)),
        Some(-32601)
    );
    let null_params = ask(
        br#"{"jsonrpc":"2.0","id":10,"method":"tools/call","params":null}"#,
        true,
    );
    assert_eq!(code(&null_params), Some(-32602), "{null_params}");
    assert_eq!(null_params["id"], 10);
    let call = |id: u32, name: &str, args: Value| {
        json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {"name": name, "arguments": args}})
            .to_string()
    };
    let big = "x".repeat(1 << 20);
    for (id, name, args) in [
        (4, "nope", json!({})),
        (5, "search", json!({"question": 42})),
        (6, "search", json!({"question": big})),
        (7, "get_note", json!({"id": "q99"})),
        (8, "search", json!({"question": "rag", "mode": "fast"})),
    ] {
        let r = ask(call(id, name, args).as_bytes(), true);
        assert_eq!(code(&r), Some(-32602), "{name}: {r}");
        assert_eq!(r["id"], id);
    }
    let ok = ask(
        call(9, "search", json!({"question": "what is TTFT", "k": 2})).as_bytes(),
        true,
    );
    let answer = &ok["result"]["structuredContent"];
    assert_eq!(answer["schema"], "cram.ask/2", "{ok}");
    assert_eq!(answer["results"].as_array().unwrap().len(), 2);
    assert!(
        answer["summary"]
            .as_str()
            .unwrap()
            .starts_with("Closest question: q38")
    );
    drop(input);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// Skips (or, under CI, fails) with `why`.
fn unavailable(why: &str) {
    assert!(!under_ci(), "{why} (CI must run the MCP client test)");
    eprintln!("skipping the MCP Python client test: {why}");
}

/// A venv with the pinned SDK under the target dir, created once.
fn sdk_venv() -> Result<PathBuf, String> {
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("mcp-venv-{MCP_SDK}"));
    let python = venv.join("bin/python");
    let ready = venv.join(".installed");
    if ready.is_file() {
        return Ok(python);
    }
    let run = |c: &mut Command, what: &str| -> Result<(), String> {
        let out = c.output().map_err(|e| format!("{what}: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{what} failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ))
        }
    };
    let _ = std::fs::remove_dir_all(&venv);
    run(
        Command::new("python3").args(["-m", "venv"]).arg(&venv),
        "python3 -m venv",
    )?;
    run(
        Command::new(&python)
            .args(["-m", "pip", "install", "-q", "--disable-pip-version-check"])
            .arg(format!("mcp=={MCP_SDK}")),
        "pip install mcp",
    )?;
    std::fs::write(&ready, MCP_SDK).map_err(|e| e.to_string())?;
    Ok(python)
}

#[test]
fn the_official_python_client_gets_the_same_answers_as_cram_ask() {
    if !require_model() {
        return;
    }
    let python = match sdk_venv() {
        Ok(p) => p,
        Err(why) => return unavailable(&why),
    };
    let soak = std::env::var("CRAM_MCP_SOAK").unwrap_or_else(|_| SOAK_CALLS.into());
    let p = bundled_paths();
    let out = Command::new(python)
        .arg(root().join("tests/it/mcp_client.py"))
        .arg(env!("CARGO_BIN_EXE_cram"))
        .arg(&soak)
        .env("CRAM_CORPUS", root().join("corpus"))
        .env("CRAM_INDEX", &p.index)
        .env("CRAM_MODEL_DIR", &p.model_dir)
        .env_remove("CRAM_ORT_LIB")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "client failed:\n{stdout}\n{stderr}");
    let result = stdout
        .lines()
        .find_map(|l| l.strip_prefix("RESULT "))
        .expect("a RESULT line");
    eprintln!("cram mcp under the Python MCP SDK {MCP_SDK}: {result}");
}
