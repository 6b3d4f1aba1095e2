//! The tab as browsers get it: `scripts/tab/build-tab.mjs` (esbuild, pinned in package-lock.json)
//! bundles `tab/` into a folder of this sandbox's own, the same build that
//! `scripts/deploy/stage_tab.py` deploys. It is built at start and again when a page is asked for and a
//! file under `tab/` changed since, so editing the tab and reloading the page is still enough.
//! Each build goes to a new folder and replaces the served one only when it succeeded, so a
//! page never sees half a build.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::SystemTime;

#[derive(Debug)]
pub struct TabBuild {
    source: PathBuf,
    script: PathBuf,
    /// This process's folder under the system's temporary folder; see [`Self::remove`].
    root: PathBuf,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    /// The folder served, or why there is none.
    served: Result<PathBuf, String>,
    /// The newest modification time under `tab/` when `served` was built.
    built_from: Option<SystemTime>,
    builds: u32,
}

const ROOT_PREFIX: &str = "remote-expert-sandbox-tab-";

impl TabBuild {
    /// Builds `tab/` once; a failure is kept and answered to the browser (see [`Self::current`]).
    pub fn start(source: PathBuf, script: PathBuf) -> TabBuild {
        remove_abandoned_builds();
        static STARTED: AtomicU32 = AtomicU32::new(0);
        let root = std::env::temp_dir().join(format!(
            "{ROOT_PREFIX}{}-{}",
            std::process::id(),
            STARTED.fetch_add(1, Ordering::Relaxed)
        ));
        let build = TabBuild {
            source,
            script,
            root,
            state: Mutex::new(State {
                served: Err("not built yet".to_owned()),
                built_from: None,
                builds: 0,
            }),
        };
        if let Err(reason) = build.current(true) {
            eprintln!("sandbox: the tab could not be built, its pages answer 503: {reason}");
        }
        build
    }

    /// The folder to serve from; rebuilt first when `page` (an HTML page is asked for) and a
    /// source file is newer than the last build.
    pub fn current(&self, page: bool) -> Result<PathBuf, String> {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // Only pages look at the source tree: their scripts and styles then come from the
        // build the page was served from.
        let newest = if page {
            newest_change(&self.source)
        } else {
            None
        };
        if page && (state.built_from.is_none() || newest > state.built_from) {
            state.builds += 1;
            let out = self.root.join(format!("build-{}", state.builds));
            match self.run(&out) {
                Ok(()) => {
                    if let Ok(old) = &state.served {
                        let _ = std::fs::remove_dir_all(old);
                    }
                    state.served = Ok(out);
                }
                Err(reason) => {
                    let _ = std::fs::remove_dir_all(&out);
                    state.served = Err(reason);
                }
            }
            state.built_from = newest;
        }
        state.served.clone()
    }

    fn run(&self, out: &Path) -> Result<(), String> {
        self.install_build_tools()?;
        run_tool(Command::new("node").arg(&self.script).arg(out), |stderr| {
            format!("{stderr} (run `npm ci` in the repository once)")
        })
    }
}

impl TabBuild {
    /// On a fresh checkout the pinned build tools are not installed yet: `npm ci` installs
    /// them from the lock file once, so `cargo run -p sandbox` stays the one command to run.
    fn install_build_tools(&self) -> Result<(), String> {
        let Some(repository) = self.script.parent().and_then(Path::parent) else {
            return Ok(());
        };
        let installed = repository.join("node_modules").join("esbuild").exists();
        if installed || !repository.join("package-lock.json").exists() {
            return Ok(());
        }
        eprintln!(
            "sandbox: installing the tab's build tools once (npm ci, from package-lock.json)"
        );
        run_tool(
            Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund"])
                .current_dir(repository),
            |stderr| format!("npm ci failed: {stderr}"),
        )
    }

    /// Removes this sandbox's builds (the server tasks holding it outlive `run`).
    pub fn remove(&self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// Runs a Node.js tool to completion; `failed` words its error output when it fails.
fn run_tool(command: &mut Command, failed: impl Fn(&str) -> String) -> Result<(), String> {
    let program = command.get_program().to_string_lossy().into_owned();
    let output = command.output().map_err(|e| {
        format!("{program} could not be started ({e}); install Node.js 20 or later")
    })?;
    if output.status.success() {
        Ok(())
    } else {
        Err(failed(String::from_utf8_lossy(&output.stderr).trim()))
    }
}

/// The newest modification time of the files under `dir` (a deployment's `tab/build` aside).
fn newest_change(dir: &Path) -> Option<SystemTime> {
    let mut newest = None;
    let Ok(entries) = std::fs::read_dir(dir) else {
        return newest;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let changed = if path.is_dir() {
            if entry.file_name() == "build" {
                continue;
            }
            newest_change(&path)
        } else {
            entry.metadata().and_then(|m| m.modified()).ok()
        };
        newest = newest.max(changed);
    }
    newest
}

/// Folders of sandboxes that were killed before they could clean up (their process is gone).
fn remove_abandoned_builds() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(ROOT_PREFIX))
            .and_then(|rest| rest.split('-').next())
        else {
            continue;
        };
        if pid.parse::<u32>().is_ok() && !Path::new("/proc").join(pid).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// A build script that copies `page.html` and counts its runs, in a folder of its own.
    fn fixture(name: &str) -> (PathBuf, PathBuf) {
        let dir =
            std::env::temp_dir().join(format!("tab-build-test-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("src")).unwrap();
        std::fs::write(dir.join("src/page.html"), "first").unwrap();
        let script = dir.join("build.mjs");
        std::fs::write(
            &script,
            format!(
                "import {{ mkdirSync, copyFileSync, appendFileSync }} from 'node:fs';\n\
                 mkdirSync(process.argv[2], {{ recursive: true }});\n\
                 copyFileSync('{0}/src/page.html', process.argv[2] + '/page.html');\n\
                 appendFileSync('{0}/runs', 'x');\n",
                dir.display()
            ),
        )
        .unwrap();
        (dir, script)
    }

    #[test]
    fn a_page_after_a_change_is_served_from_a_new_build_and_other_files_never_rebuild() {
        let (dir, script) = fixture("change");
        let build = TabBuild::start(dir.join("src"), script);
        let runs = || std::fs::read_to_string(dir.join("runs")).unwrap().len();
        let served =
            |page| std::fs::read_to_string(build.current(page).unwrap().join("page.html")).unwrap();

        assert_eq!(served(true), "first");
        assert_eq!(
            runs(),
            1,
            "built once at start, not again for an unchanged tree"
        );

        // Modification times have a resolution of their own: make the change visibly newer.
        let later = SystemTime::now() + std::time::Duration::from_secs(5);
        std::fs::write(dir.join("src/page.html"), "second").unwrap();
        std::fs::File::options()
            .write(true)
            .open(dir.join("src/page.html"))
            .unwrap()
            .set_modified(later)
            .unwrap();
        assert_eq!(
            served(false),
            "first",
            "a script or style never triggers a build"
        );
        assert_eq!(served(true), "second");
        assert_eq!(runs(), 2);

        build.remove();
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_failed_build_is_reported_and_not_served() {
        let (dir, _) = fixture("fails");
        let script = dir.join("fails.mjs");
        std::fs::write(
            &script,
            "console.error('esbuild is missing'); process.exit(1);",
        )
        .unwrap();

        let build = TabBuild::start(dir.join("src"), script);

        let reason = build.current(true).unwrap_err();
        assert!(reason.contains("esbuild is missing"), "{reason}");
        assert!(reason.contains("npm ci"), "{reason}");
        build.remove();
        let _ = std::fs::remove_dir_all(&dir);
    }
}
