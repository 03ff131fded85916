//! The container files, checked without a container engine (none runs on these machines):
//! the compose file's services, ports and health checks, and that the Dockerfile's runtime
//! stage carries every shared library the server binary needs. `scripts/test` also lints the
//! Dockerfile with hadolint.

use std::path::Path;

use serde_yaml::Value;

fn repo_file(name: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(name)).unwrap()
}

fn compose() -> Value {
    let mut v: Value = serde_yaml::from_str(&repo_file("docker-compose.yml")).unwrap();
    v.apply_merge().unwrap();
    v
}

fn strings(v: &Value) -> Vec<String> {
    v.as_sequence()
        .map(|s| {
            s.iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn compose_names_the_three_services_with_health_checks() {
    let c = compose();
    let services = &c["services"];
    for (name, role, port, health) in [
        ("backend", "serve", "8000", "/api/v1/health"),
        ("ib-host", "ib-host", "5001", "/health"),
        ("training-host", "training-host", "5002", "/health"),
    ] {
        let s = &services[name];
        assert_eq!(strings(&s["command"])[0], role, "{name}");
        assert_eq!(s["image"].as_str(), Some("ktrdr:latest"), "{name}");
        let test = strings(&s["healthcheck"]["test"]).join(" ");
        assert!(
            test.contains(&format!("127.0.0.1:{port}{health}")),
            "{name}: {test}"
        );
        assert_eq!(
            s["environment"]["KTRDR_HEALTH_URL"].as_str(),
            Some(format!("http://127.0.0.1:{port}{health}").as_str()),
            "{name}"
        );
        // Listening on 0.0.0.0 in its container, each service needs its token (and compose
        // refuses to start without it: `${VAR:?...}`).
        let token = if role == "serve" {
            "KTRDR_API_TOKEN"
        } else {
            "KTRDR_HOST_TOKEN"
        };
        assert!(
            s["environment"][token]
                .as_str()
                .is_some_and(|v| v.starts_with(&format!("${{{token}:?"))),
            "{name} must require {token}"
        );
    }
    assert!(services["backend"]["environment"]["KTRDR_HOST_TOKEN"].is_string());
    // The backend waits for healthy host services and is wired to them.
    let b = &services["backend"];
    for dep in ["ib-host", "training-host"] {
        assert_eq!(
            b["depends_on"][dep]["condition"].as_str(),
            Some("service_healthy")
        );
    }
    assert_eq!(
        b["environment"]["USE_IB_HOST_SERVICE"].as_str(),
        Some("true")
    );
    assert_eq!(
        b["environment"]["USE_TRAINING_HOST_SERVICE"].as_str(),
        Some("true")
    );
    assert!(b["environment"]["IB_HOST_SERVICE_URL"]
        .as_str()
        .unwrap()
        .contains("ib-host:5001"));
    assert!(b["environment"]["TRAINING_HOST_SERVICE_URL"]
        .as_str()
        .unwrap()
        .contains("training-host:5002"));
    // IB Gateway on the Docker host by default.
    let ib = &services["ib-host"];
    assert!(strings(&ib["command"]).join(" ").contains("--provider ib"));
    assert!(ib["environment"]["IB_HOST"]
        .as_str()
        .unwrap()
        .contains("host.docker.internal"));
    assert!(ib["environment"]["IB_PORT"]
        .as_str()
        .unwrap()
        .contains("4002"));
    // Offline and GPU variants sit behind profiles.
    assert_eq!(strings(&services["ib-host-csv"]["profiles"]), ["csv"]);
    let gpu = &services["training-host-gpu"];
    assert_eq!(strings(&gpu["profiles"]), ["gpu"]);
    let dev = &gpu["deploy"]["resources"]["reservations"]["devices"][0];
    assert_eq!(dev["driver"].as_str(), Some("nvidia"));
    // Nothing is published beyond loopback; data and models are named volumes.
    for (name, s) in services.as_mapping().unwrap() {
        for p in strings(&s["ports"]) {
            assert!(p.starts_with("127.0.0.1:"), "{name:?} publishes {p}");
        }
    }
    for v in ["ktrdr-data", "ktrdr-models"] {
        assert!(c["volumes"].as_mapping().unwrap().contains_key(v), "{v}");
    }
    assert!(strings(&b["volumes"])
        .iter()
        .any(|v| v.starts_with("ktrdr-models:")));
    assert!(strings(&services["training-host"]["volumes"])
        .iter()
        .any(|v| v.starts_with("ktrdr-models:")));
}

/// Libraries of the base image (debian:bookworm-slim): libc6, libgcc-s1, libstdc++6.
const BASE_LIBS: &[&str] = &[
    "linux-vdso.so.1",
    "libc.so.6",
    "libm.so.6",
    "libdl.so.2",
    "librt.so.1",
    "libpthread.so.0",
    "libutil.so.1",
    "libgcc_s.so.1",
    "libstdc++.so.6",
    "ld-linux-x86-64.so.2",
];

/// What `ldd` resolves for `exe`: (name, path).
fn ldd(exe: &str) -> Vec<(String, String)> {
    let out = std::process::Command::new("ldd").arg(exe).output().unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let l = l.trim();
            let (name, rest) = l.split_once(" => ").unwrap_or((l, l));
            let path = rest.split(" (").next().unwrap_or("").trim().to_owned();
            let name = name.split(" (").next().unwrap_or("").trim();
            let name = name.rsplit('/').next().unwrap_or(name).to_owned();
            (name, path)
        })
        .collect()
}

#[test]
fn the_runtime_stage_carries_every_library_the_binaries_need() {
    let dockerfile = repo_file("Dockerfile");
    let runtime = dockerfile
        .split("AS runtime")
        .nth(1)
        .expect("a runtime stage");
    // The folders the runtime stage copies out of the builder's venv, relative to
    // site-packages/.
    let copied: Vec<String> = runtime
        .lines()
        .filter(|l| l.starts_with("COPY --from=builder") && l.contains("site-packages/"))
        .map(|l| {
            let src = l.split_whitespace().nth(2).unwrap();
            let rel = src.split("site-packages/").nth(1).unwrap();
            format!("{}/", rel.trim_end_matches('/'))
        })
        .collect();
    assert!(!copied.is_empty(), "no venv folders copied");
    assert!(runtime.contains("/usr/local/bin/ktrdr /usr/local/bin/ktrdr-server"));

    let server = ldd(env!("CARGO_BIN_EXE_ktrdr-server"));
    assert!(server.iter().any(|(n, _)| n == "libtorch_cuda.so"));
    for (name, path) in &server {
        assert!(!path.contains("not found"), "{name} not found");
        if let Some(rel) = path.split("site-packages/").nth(1) {
            // Normalise `torch/lib/../../nvidia/...`.
            let mut parts: Vec<&str> = Vec::new();
            for p in rel.split('/') {
                if p == ".." {
                    parts.pop();
                } else {
                    parts.push(p);
                }
            }
            let rel = parts.join("/");
            assert!(
                copied.iter().any(|c| rel.starts_with(c.as_str())),
                "{name} ({rel}) is not in the runtime stage (copied: {copied:?})"
            );
        } else {
            assert!(
                BASE_LIBS.contains(&name.as_str()),
                "{name} ({path}) is not in the base image"
            );
        }
    }
    for (name, _) in ldd(env!("CARGO_BIN_EXE_ktrdr")) {
        assert!(
            BASE_LIBS.contains(&name.as_str()),
            "the client needs {name}"
        );
    }
}

#[test]
fn the_image_runs_as_a_user_with_a_role_health_check() {
    let d = repo_file("Dockerfile");
    let runtime = d.split("AS runtime").nth(1).unwrap();
    let user = runtime
        .lines()
        .find_map(|l| l.strip_prefix("USER "))
        .expect("a USER");
    assert_ne!(user.trim(), "0");
    assert_ne!(user.trim(), "root");
    assert!(runtime.contains("HEALTHCHECK"));
    assert!(runtime.contains("KTRDR_HEALTH_URL"));
    assert!(runtime.contains("ENTRYPOINT [\"ktrdr\"]"));
    assert!(runtime.contains("KTRDR_HOST=0.0.0.0"));
    let ignore = repo_file(".dockerignore");
    for p in ["target/", ".venv", "data/", "models/"] {
        assert!(
            ignore.lines().any(|l| l.trim() == p),
            ".dockerignore lacks {p}"
        );
    }
}
