//! Shared by the kernel examples (`#[path]`-included, not an example).

/// CPU time of all this process's threads (Linux `schedstat`, in ns), so
/// that a busy machine does not distort the per-core rate; NaN elsewhere.
pub fn cpu_seconds() -> f64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return f64::NAN;
    };
    let mut total_ns = 0u64;
    for task in tasks.flatten() {
        if let Ok(text) = std::fs::read_to_string(task.path().join("schedstat")) {
            total_ns += text
                .split_whitespace()
                .next()
                .and_then(|ns| ns.parse::<u64>().ok())
                .unwrap_or(0);
        }
    }
    total_ns as f64 / 1e9
}
