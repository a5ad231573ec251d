//! Chunks of records through reading, encoding and writing at once.
//!
//! Three chunk buffers take turns: while the worker threads encode one
//! chunk, the calling thread writes the chunk before it and reads the chunk
//! after it, then helps encode. Buffers are reused, so records and filters
//! cost no allocation once they have grown. Errors keep input order: a read
//! error is returned only after every chunk before it is written (a row
//! error there comes first).

/// A chunk buffer.
pub(crate) trait Chunk: Default + Send {
    /// How many records it holds now.
    fn len(&self) -> usize;
    /// Hold no records (keeping the buffers).
    fn clear(&mut self);
}

/// Run chunks through `fill` (read the next chunk into a buffer; returns
/// whether the input may have more), `encode` (on the worker threads) and
/// `write`, in input order. `first` is the first chunk, read already, and
/// `more` whether more may follow it.
///
/// # Errors
/// The first error of `write`, else of `fill`.
pub(crate) fn run<C: Chunk, E>(
    first: C,
    mut more: bool,
    mut fill: impl FnMut(&mut C) -> Result<bool, E>,
    encode: &(impl Fn(&mut C) + Sync),
    mut write: impl FnMut(&mut C) -> Result<(), E>,
) -> Result<(), E> {
    let mut previous = C::default();
    let mut current = first;
    let mut next = C::default();
    let mut read_error = None;
    while current.len() > 0 || previous.len() > 0 {
        let mut wrote = Ok(());
        let mut read = Ok(false);
        rayon::in_place_scope(|scope| {
            if current.len() > 0 {
                let current = &mut current;
                scope.spawn(move |_| encode(current));
            }
            wrote = write(&mut previous);
            previous.clear();
            next.clear();
            if more && wrote.is_ok() {
                read = fill(&mut next);
            }
        });
        wrote?;
        match read {
            Ok(has_more) => more = has_more,
            Err(error) => {
                // Reported once the chunks before it are written.
                read_error = Some(error);
                more = false;
                next.clear();
            }
        }
        std::mem::swap(&mut previous, &mut current);
        std::mem::swap(&mut current, &mut next);
    }
    match read_error {
        Some(error) => Err(error),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Numbers {
        values: Vec<u32>,
        doubled: Vec<u32>,
    }

    impl Chunk for Numbers {
        fn len(&self) -> usize {
            self.values.len()
        }
        fn clear(&mut self) {
            self.values.clear();
        }
    }

    /// Every chunk is encoded and written once, in order, with any number
    /// of threads; a read error comes after the chunks before it.
    #[test]
    fn chunks_arrive_in_order_and_errors_after_them() {
        for threads in [1, 2, 4] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            for (chunks, fail_at) in [(0u32, None), (1, None), (7, None), (7, Some(4u32))] {
                let mut next = 1;
                let fill = |chunk: &mut Numbers| -> Result<bool, String> {
                    if fail_at == Some(next) {
                        return Err(format!("read {next}"));
                    }
                    chunk.values = (next * 10..next * 10 + 3).collect();
                    next += 1;
                    Ok(next < chunks)
                };
                let encode = |chunk: &mut Numbers| {
                    chunk.doubled = chunk.values.iter().map(|v| 2 * v).collect();
                };
                let mut written = Vec::new();
                let write = |chunk: &mut Numbers| -> Result<(), String> {
                    written.append(&mut chunk.doubled);
                    Ok(())
                };
                let first = Numbers {
                    values: if chunks == 0 { vec![] } else { vec![0, 1, 2] },
                    doubled: Vec::new(),
                };
                let result = pool.install(|| run(first, chunks > 1, fill, &encode, write));
                let expected_chunks = fail_at.unwrap_or(chunks);
                let expected: Vec<u32> = (0..expected_chunks)
                    .flat_map(|c| (c * 10..c * 10 + 3).map(|v| 2 * v))
                    .collect();
                assert_eq!(written, expected, "{threads} threads, {chunks} chunks");
                match fail_at {
                    Some(at) => assert_eq!(result, Err(format!("read {at}"))),
                    None => assert_eq!(result, Ok(())),
                }
            }
        }
    }
}
