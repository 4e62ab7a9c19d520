//! An ext4 file system on a loop device the test makes, mounted `errors=remount-ro`, that the
//! test can turn read-only as a failing disk does (`trigger_fs_error`: the kernel remounts it
//! `emergency_ro`, and `mount -o remount,rw` is refused). Needs root and a free loop device;
//! without them the test fails with a message saying so (it never skips).

use std::path::{Path, PathBuf};
use std::process::Command;

/// Unmounted and detached when dropped.
pub struct LoopExt4 {
    dir: PathBuf,
    device: String,
}

fn run(program: &str, args: &[&str]) -> std::process::Output {
    Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program} runs (util-linux, e2fsprogs): {e}"))
}

fn path(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 path")
}

impl LoopExt4 {
    /// A `megabytes` image at `image`, formatted ext4, attached to a free loop device and
    /// mounted on `dir`.
    pub fn mount(image: &Path, dir: &Path, megabytes: u64) -> LoopExt4 {
        let uid = run("id", &["-u"]);
        assert_eq!(
            String::from_utf8_lossy(&uid.stdout).trim(),
            "0",
            "this test attaches a loop device and mounts it: it must run as root (it does here and in CI)"
        );
        std::fs::File::create(image)
            .and_then(|f| f.set_len(megabytes << 20))
            .expect("create the image file");
        let mkfs = run("mkfs.ext4", &["-q", "-F", path(image)]);
        assert!(
            mkfs.status.success(),
            "mkfs.ext4 failed: {}",
            String::from_utf8_lossy(&mkfs.stderr)
        );
        let attach = run("losetup", &["-f", "--show", path(image)]);
        assert!(
            attach.status.success(),
            "this test needs a free loop device, and `losetup -f --show {}` failed: {} (load the loop module or free a device; the test does not skip)",
            image.display(),
            String::from_utf8_lossy(&attach.stderr).trim()
        );
        let device = String::from_utf8_lossy(&attach.stdout).trim().to_string();
        std::fs::create_dir_all(dir).unwrap();
        let mounted = LoopExt4 {
            dir: dir.to_path_buf(),
            device,
        };
        mounted.mount_again();
        mounted
    }

    fn mount_again(&self) {
        let out = run(
            "mount",
            &["-o", "errors=remount-ro", &self.device, path(&self.dir)],
        );
        assert!(
            out.status.success(),
            "mount {} on {} failed: {}",
            self.device,
            self.dir.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The mount's options as findmnt shows them.
    pub fn options(&self) -> String {
        let out = run("findmnt", &["-no", "OPTIONS", path(&self.dir)]);
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// A file-system error, as a failing disk reports: ext4 remounts itself read-only.
    pub fn trigger_error(&self) {
        let name = self.device.trim_start_matches("/dev/");
        std::fs::write(format!("/sys/fs/ext4/{name}/trigger_fs_error"), "1")
            .expect("write /sys/fs/ext4/DEVICE/trigger_fs_error");
    }

    /// The recovery of emgd(8) STORE FAULTS, emgd stopped: umount, `e2fsck -fy`, mount again.
    pub fn check_and_remount(&self) {
        let out = run("umount", &[path(&self.dir)]);
        assert!(
            out.status.success(),
            "umount {}: {}",
            self.dir.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        let fsck = run("e2fsck", &["-fy", &self.device]);
        // 0 clean, 1 errors corrected; anything more is a failed repair.
        assert!(
            matches!(fsck.status.code(), Some(0 | 1)),
            "e2fsck -fy {} failed ({:?}): {}{}",
            self.device,
            fsck.status.code(),
            String::from_utf8_lossy(&fsck.stdout),
            String::from_utf8_lossy(&fsck.stderr)
        );
        self.mount_again();
    }
}

impl Drop for LoopExt4 {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
        let _ = Command::new("losetup").args(["-d", &self.device]).status();
    }
}
