//! The coalescer: reads that wait share a batch; an idle one answers at
//! once; a caller that goes away, an error or a missing key affect only
//! what they should.

use std::sync::{Arc, Mutex};

use partner_kernel::coalesce::{Abandoned, BatchFuture, Coalescer, Fetch};
use tokio::sync::Semaphore;

#[derive(Debug, Clone, PartialEq)]
struct Failed(&'static str);

impl Abandoned for Failed {
    fn abandoned() -> Self {
        Failed("abandoned")
    }
}

/// A source whose batches wait for a permit of `gate` each, recording the
/// keys of every batch. Keys ending in `!` fail their batch; keys starting
/// with `none` are not found.
struct Source {
    gate: Arc<Semaphore>,
    seen: Arc<Mutex<Vec<Vec<u32>>>>,
}

fn source() -> (Source, Fetch<u32, String, Failed>) {
    let gate = Arc::new(Semaphore::new(0));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (g, s) = (Arc::clone(&gate), Arc::clone(&seen));
    let fetch: Fetch<u32, String, Failed> = Arc::new(move |keys: Vec<u32>| {
        let (g, s) = (Arc::clone(&g), Arc::clone(&s));
        let fut: BatchFuture<u32, String, Failed> = Box::pin(async move {
            s.lock().map_err(|_| Failed("poisoned"))?.push(keys.clone());
            g.acquire().await.map_err(|_| Failed("closed"))?.forget();
            if keys.contains(&666) {
                return Err(Failed("boom"));
            }
            Ok(keys
                .into_iter()
                .filter(|k| *k < 1000)
                .map(|k| (k, format!("v{k}")))
                .collect())
        });
        fut
    });
    (Source { gate, seen }, fetch)
}

fn batches(s: &Source) -> Vec<Vec<u32>> {
    s.seen.lock().map(|b| b.clone()).unwrap_or_default()
}

/// Lets the other tasks run until `done` holds.
async fn until(what: &str, done: impl Fn() -> bool) {
    for _ in 0..100_000 {
        if done() {
            return;
        }
        tokio::task::yield_now().await;
    }
    panic!("never: {what}");
}

/// Until `n` batches have started (the source records a batch before it
/// waits at the gate).
async fn started(s: &Source, n: usize) {
    until("batches started", || batches(s).len() >= n).await;
}

/// Until `n` reads wait for a slot.
async fn queued(c: &Coalescer<u32, String, Failed>, n: usize) {
    until("reads queued", || c.waiting() == n).await;
}

#[tokio::test]
async fn reads_that_wait_share_one_batch() {
    let (s, fetch) = source();
    let c = Coalescer::new(fetch, 1, 100);
    let first = tokio::spawn({
        let c = c.clone();
        async move { c.load(1).await }
    });
    started(&s, 1).await;
    // The only slot is busy: these wait, then go together.
    let rest: Vec<_> = (2..=20)
        .map(|k| {
            let c = c.clone();
            tokio::spawn(async move { c.load(k).await })
        })
        .collect();
    queued(&c, 19).await;
    s.gate.add_permits(2);
    assert_eq!(first.await.ok(), Some(Ok(Some("v1".to_owned()))));
    for (k, read) in (2..=20).zip(rest) {
        assert_eq!(read.await.ok(), Some(Ok(Some(format!("v{k}")))));
    }
    let seen = batches(&s);
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(seen.get(1).map(Vec::len), Some(19), "{seen:?}");
    assert_eq!(c.batches(), 2);
}

#[tokio::test]
async fn a_batch_holds_at_most_max_batch_keys_and_asks_each_key_once() {
    let (s, fetch) = source();
    let c = Coalescer::new(fetch, 1, 3);
    let first = tokio::spawn({
        let c = c.clone();
        async move { c.load(1).await }
    });
    started(&s, 1).await;
    let rest: Vec<_> = [5, 5, 6, 7, 8]
        .into_iter()
        .map(|k| {
            let c = c.clone();
            tokio::spawn(async move { c.load(k).await })
        })
        .collect();
    queued(&c, 5).await;
    s.gate.add_permits(10);
    assert!(first.await.is_ok());
    for (k, read) in [5, 5, 6, 7, 8].into_iter().zip(rest) {
        assert_eq!(read.await.ok(), Some(Ok(Some(format!("v{k}")))));
    }
    let seen = batches(&s);
    // Five callers wait: three go in the next batch (key 5 asked once),
    // then the last two.
    assert_eq!(seen, vec![vec![1], vec![5, 6], vec![7, 8]]);
}

#[tokio::test]
async fn an_idle_coalescer_starts_at_once_up_to_its_slots() {
    let (s, fetch) = source();
    let c = Coalescer::new(fetch, 3, 100);
    let reads: Vec<_> = (1..=3)
        .map(|k| {
            let c = c.clone();
            tokio::spawn(async move { c.load(k).await })
        })
        .collect();
    // Three slots: three batches of one start without any of them ending.
    started(&s, 3).await;
    s.gate.add_permits(3);
    for (k, read) in (1..=3).zip(reads) {
        assert_eq!(read.await.ok(), Some(Ok(Some(format!("v{k}")))));
    }
}

#[tokio::test]
async fn a_missing_key_is_none_and_an_error_reaches_every_caller_of_its_batch() {
    let (s, fetch) = source();
    let c = Coalescer::new(fetch, 1, 100);
    s.gate.add_permits(1);
    assert_eq!(c.load(1000).await, Ok(None));

    let first = tokio::spawn({
        let c = c.clone();
        async move { c.load(1).await }
    });
    started(&s, 2).await;
    let failing: Vec<_> = [666, 7]
        .into_iter()
        .map(|k| {
            let c = c.clone();
            tokio::spawn(async move { c.load(k).await })
        })
        .collect();
    queued(&c, 2).await;
    s.gate.add_permits(2);
    assert_eq!(first.await.ok(), Some(Ok(Some("v1".to_owned()))));
    for read in failing {
        assert_eq!(read.await.ok(), Some(Err(Failed("boom"))));
    }
    // The slot was freed: the next read goes through.
    s.gate.add_permits(1);
    assert_eq!(c.load(9).await, Ok(Some("v9".to_owned())));
}

#[tokio::test]
async fn a_caller_that_goes_away_does_not_take_the_batch_with_it() {
    let (s, fetch) = source();
    let c = Coalescer::new(fetch, 1, 100);
    // This caller starts the batch, then is cancelled while it runs.
    let leaver = tokio::spawn({
        let c = c.clone();
        async move { c.load(1).await }
    });
    started(&s, 1).await;
    let stayer = tokio::spawn({
        let c = c.clone();
        async move { c.load(2).await }
    });
    queued(&c, 1).await;
    leaver.abort();
    s.gate.add_permits(2);
    assert_eq!(stayer.await.ok(), Some(Ok(Some("v2".to_owned()))));
    assert_eq!(batches(&s), vec![vec![1], vec![2]]);
}
