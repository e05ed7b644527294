//! The syscalls the normaliser tells apart, by name, and their numbers on the architectures
//! auditd logs them for, for RAW logs (an ENRICHED log names the syscall itself).
//!
//! Only the calls that decide an event's kind are listed: a syscall not here is "other", which
//! is what it would be if it were listed.

/// `arch=` values (AUDIT_ARCH_*).
const X86_64: u64 = 0xc000_003e;
const I386: u64 = 0x4000_0003;
const AARCH64: u64 = 0xc000_00b7;

/// (number, name) per architecture.
const TABLE_X86_64: &[(u64, &str)] = &[
    (1, "write"),
    (2, "open"),
    (49, "bind"),
    (59, "execve"),
    (76, "truncate"),
    (77, "ftruncate"),
    (82, "rename"),
    (83, "mkdir"),
    (84, "rmdir"),
    (85, "creat"),
    (86, "link"),
    (87, "unlink"),
    (88, "symlink"),
    (90, "chmod"),
    (91, "fchmod"),
    (92, "chown"),
    (93, "fchown"),
    (94, "lchown"),
    (132, "utime"),
    (133, "mknod"),
    (159, "adjtimex"),
    (164, "settimeofday"),
    (175, "init_module"),
    (176, "delete_module"),
    (188, "setxattr"),
    (189, "lsetxattr"),
    (190, "fsetxattr"),
    (197, "removexattr"),
    (198, "lremovexattr"),
    (199, "fremovexattr"),
    (227, "clock_settime"),
    (235, "utimes"),
    (257, "openat"),
    (258, "mkdirat"),
    (259, "mknodat"),
    (260, "fchownat"),
    (261, "futimesat"),
    (263, "unlinkat"),
    (264, "renameat"),
    (265, "linkat"),
    (266, "symlinkat"),
    (268, "fchmodat"),
    (280, "utimensat"),
    (305, "clock_adjtime"),
    (313, "finit_module"),
    (316, "renameat2"),
    (322, "execveat"),
    (437, "openat2"),
    (452, "fchmodat2"),
];

const TABLE_I386: &[(u64, &str)] = &[
    (5, "open"),
    (8, "creat"),
    (9, "link"),
    (10, "unlink"),
    (11, "execve"),
    (15, "chmod"),
    (38, "rename"),
    (39, "mkdir"),
    (40, "rmdir"),
    (79, "settimeofday"),
    (83, "symlink"),
    (92, "truncate"),
    (93, "ftruncate"),
    (94, "fchmod"),
    (124, "adjtimex"),
    (128, "init_module"),
    (129, "delete_module"),
    (198, "lchown32"),
    (207, "fchown32"),
    (212, "chown32"),
    (226, "setxattr"),
    (227, "lsetxattr"),
    (228, "fsetxattr"),
    (235, "removexattr"),
    (236, "lremovexattr"),
    (237, "fremovexattr"),
    (264, "clock_settime"),
    (295, "openat"),
    (296, "mkdirat"),
    (298, "fchownat"),
    (301, "unlinkat"),
    (302, "renameat"),
    (303, "linkat"),
    (304, "symlinkat"),
    (306, "fchmodat"),
    (320, "utimensat"),
    (350, "finit_module"),
    (353, "renameat2"),
    (358, "execveat"),
    (361, "bind"),
    (437, "openat2"),
];

/// The generic table arm64 (and riscv64) use.
const TABLE_AARCH64: &[(u64, &str)] = &[
    (5, "setxattr"),
    (6, "lsetxattr"),
    (7, "fsetxattr"),
    (14, "removexattr"),
    (15, "lremovexattr"),
    (16, "fremovexattr"),
    (33, "mknodat"),
    (34, "mkdirat"),
    (35, "unlinkat"),
    (36, "symlinkat"),
    (37, "linkat"),
    (38, "renameat"),
    (45, "truncate"),
    (46, "ftruncate"),
    (52, "fchmod"),
    (53, "fchmodat"),
    (54, "fchownat"),
    (55, "fchown"),
    (56, "openat"),
    (64, "write"),
    (88, "utimensat"),
    (105, "init_module"),
    (106, "delete_module"),
    (112, "clock_settime"),
    (170, "settimeofday"),
    (171, "adjtimex"),
    (200, "bind"),
    (221, "execve"),
    (266, "clock_adjtime"),
    (273, "finit_module"),
    (276, "renameat2"),
    (281, "execveat"),
    (437, "openat2"),
    (452, "fchmodat2"),
];

/// The name of syscall `number` on `arch`, if it is one the normaliser tells apart.
pub fn name(arch: u64, number: u64) -> Option<&'static str> {
    let table = match arch {
        X86_64 => TABLE_X86_64,
        I386 => TABLE_I386,
        AARCH64 => TABLE_AARCH64,
        _ => return None,
    };
    table.iter().find(|(n, _)| *n == number).map(|(_, s)| *s)
}

/// What a syscall does to the world, for the event's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Exec,
    /// Opens a file (written only when its flags say so).
    Open,
    Write,
    Attr,
    Delete,
    Rename,
    Bind,
    Module,
    Time,
}

/// The effect of the syscall named `name`.
pub fn effect(name: &str) -> Option<Effect> {
    Some(match name {
        "execve" | "execveat" => Effect::Exec,
        "open" | "openat" | "openat2" => Effect::Open,
        "creat" | "truncate" | "ftruncate" | "mkdir" | "mkdirat" | "link" | "linkat"
        | "symlink" | "symlinkat" | "mknod" | "mknodat" | "write" => Effect::Write,
        "chmod" | "fchmod" | "fchmodat" | "fchmodat2" | "chown" | "fchown" | "lchown"
        | "fchownat" | "chown32" | "fchown32" | "lchown32" | "setxattr" | "lsetxattr"
        | "fsetxattr" | "removexattr" | "lremovexattr" | "fremovexattr" | "utime" | "utimes"
        | "utimensat" | "futimesat" => Effect::Attr,
        "unlink" | "unlinkat" | "rmdir" => Effect::Delete,
        "rename" | "renameat" | "renameat2" => Effect::Rename,
        "bind" => Effect::Bind,
        "init_module" | "finit_module" | "delete_module" => Effect::Module,
        "settimeofday" | "clock_settime" | "adjtimex" | "clock_adjtime" | "stime" => Effect::Time,
        _ => return None,
    })
}

/// The flags argument's position for the open calls: `open(path, flags)`, `openat(dir, path,
/// flags)`.
pub fn open_flags_argument(name: &str) -> Option<&'static str> {
    match name {
        "open" => Some("a1"),
        "openat" => Some("a2"),
        _ => None,
    }
}

/// Whether open flags write: O_WRONLY, O_RDWR, O_CREAT or O_TRUNC (the same on every
/// architecture listed here).
pub fn open_flags_write(flags: u64) -> bool {
    const O_WRONLY: u64 = 0o1;
    const O_RDWR: u64 = 0o2;
    const O_CREAT: u64 = 0o100;
    const O_TRUNC: u64 = 0o1000;
    flags & (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC) != 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tables_agree_with_the_kernel_headers_where_they_are_installed() {
        // linux-libc-dev's unistd headers are the kernel's own numbering.
        for (arch, header) in [
            (X86_64, "/usr/include/x86_64-linux-gnu/asm/unistd_64.h"),
            (I386, "/usr/include/x86_64-linux-gnu/asm/unistd_32.h"),
            (AARCH64, "/usr/include/asm-generic/unistd.h"),
        ] {
            // linux-libc-dev comes with libc6-dev, which building opskit needs.
            let text = std::fs::read_to_string(header)
                .unwrap_or_else(|e| panic!("{header}: {e} (install linux-libc-dev)"));
            let table = match arch {
                X86_64 => TABLE_X86_64,
                I386 => TABLE_I386,
                _ => TABLE_AARCH64,
            };
            let mut checked = 0;
            for (number, name) in table {
                // A call newer than the installed headers (fchmodat2 on Linux 6.1's) is
                // not defined there at all; one defined with another number is a mistake.
                let numbers: Vec<u64> = text
                    .lines()
                    .filter_map(|l| {
                        let words: Vec<&str> = l.split_whitespace().collect();
                        match words[..] {
                            ["#define", n, v, ..]
                                if n == format!("__NR_{name}")
                                    || n == format!("__NR3264_{name}") =>
                            {
                                v.parse().ok()
                            }
                            _ => None,
                        }
                    })
                    .collect();
                assert!(
                    numbers.is_empty() || numbers.contains(number),
                    "{header}: {name} is {numbers:?}, not {number}"
                );
                checked += usize::from(!numbers.is_empty());
            }
            assert!(checked + 2 >= table.len(), "{header}: only {checked} found");
        }
    }

    #[test]
    fn write_flags() {
        assert!(!open_flags_write(0));
        assert!(open_flags_write(0o1));
        assert!(open_flags_write(0o2));
        assert!(open_flags_write(0o100 | 0o2000000));
        assert!(open_flags_write(0o1000));
        assert!(!open_flags_write(0o2000000 | 0o4000));
    }
}
