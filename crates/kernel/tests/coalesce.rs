//! The coalescer: reads that wait share a batch; an idle one answers at
//! once; a caller that goes away, an error or a missing key affect only
//! what they should.

use std::sync::{Arc, Mutex};

use partner_kernel::coalesce::{BatchError, BatchFuture, Coalescer, Fetch};
use tokio::sync::Semaphore;

#[derive(Debug, Clone, PartialEq)]
struct Failed(&'static str);

impl BatchError for Failed {
    fn abandoned() -> Self {
        Failed("abandoned")
    }

    fn overloaded() -> Self {
        Failed("overloaded")
    }
}

type Read = tokio::task::JoinHandle<Result<Option<String>, Failed>>;

/// The answer of a spawned read; a read never answered fails the test
/// instead of hanging it.
async fn answer(read: Read) -> Option<Result<Option<String>, Failed>> {
    tokio::time::timeout(std::time::Duration::from_secs(10), read)
        .await
        .ok()
        .and_then(Result::ok)
}

fn spawn_load(c: &Coalescer<u32, String, Failed>, key: u32) -> Read {
    let c = c.clone();
    tokio::spawn(async move { c.load(key).await })
}

/// A source whose batches wait for a permit of `gate` each, recording the
/// keys of every batch. Key 666 fails its batch, key 999 panics in it; keys
/// from 1000 up are not found.
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
            assert!(!keys.contains(&999), "a batch that panics");
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

/// A coalescer with one slot and batches of at most `max_batch`, whose
/// slot is held by a batch reading `key` (waiting at the gate).
async fn held(max_batch: usize, key: u32) -> (Source, Coalescer<u32, String, Failed>, Read) {
    let (s, fetch) = source();
    let c = Coalescer::new(fetch, 1, max_batch);
    let holder = spawn_load(&c, key);
    started(&s, 1).await;
    (s, c, holder)
}

/// Each read answered its key's value.
async fn assert_found(keys: impl IntoIterator<Item = u32>, reads: Vec<Read>) {
    for (k, read) in keys.into_iter().zip(reads) {
        assert_eq!(answer(read).await, Some(Ok(Some(format!("v{k}")))));
    }
}

#[tokio::test]
async fn reads_that_wait_share_one_batch() {
    let (s, c, first) = held(100, 1).await;
    // The only slot is busy: these wait, then go together.
    let rest: Vec<_> = (2..=20).map(|k| spawn_load(&c, k)).collect();
    queued(&c, 19).await;
    s.gate.add_permits(2);
    assert_found([1], vec![first]).await;
    assert_found(2..=20, rest).await;
    let seen = batches(&s);
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(seen.get(1).map(Vec::len), Some(19), "{seen:?}");
}

#[tokio::test]
async fn a_batch_holds_at_most_max_batch_keys_and_asks_each_key_once() {
    let (s, c, first) = held(3, 1).await;
    let keys = [5, 5, 6, 7, 8];
    let rest: Vec<_> = keys.into_iter().map(|k| spawn_load(&c, k)).collect();
    queued(&c, 5).await;
    s.gate.add_permits(10);
    assert_found([1], vec![first]).await;
    assert_found(keys, rest).await;
    let seen = batches(&s);
    // Five callers wait: three go in the next batch (key 5 asked once),
    // then the last two.
    assert_eq!(seen, vec![vec![1], vec![5, 6], vec![7, 8]]);
}

#[tokio::test]
async fn an_idle_coalescer_starts_at_once_up_to_its_slots() {
    let (s, fetch) = source();
    let c = Coalescer::new(fetch, 3, 100);
    let reads: Vec<_> = (1..=3).map(|k| spawn_load(&c, k)).collect();
    // Three slots: three batches of one start without any of them ending.
    started(&s, 3).await;
    s.gate.add_permits(3);
    assert_found(1..=3, reads).await;
}

#[tokio::test]
async fn a_missing_key_is_none_and_an_error_reaches_every_caller_of_its_batch() {
    let (s, fetch) = source();
    let c = Coalescer::new(fetch, 1, 100);
    s.gate.add_permits(1);
    assert_eq!(c.load(1000).await, Ok(None));

    let first = spawn_load(&c, 1);
    started(&s, 2).await;
    let failing: Vec<_> = [666, 7].into_iter().map(|k| spawn_load(&c, k)).collect();
    queued(&c, 2).await;
    s.gate.add_permits(2);
    assert_found([1], vec![first]).await;
    for read in failing {
        assert_eq!(answer(read).await, Some(Err(Failed("boom"))));
    }
    // The slot was freed: the next read goes through.
    s.gate.add_permits(1);
    assert_eq!(c.load(9).await, Ok(Some("v9".to_owned())));
}

#[tokio::test]
async fn a_caller_that_goes_away_takes_neither_its_batch_nor_its_neighbours_with_it() {
    // This caller starts the batch, then is cancelled while it runs.
    let (s, c, leaver) = held(100, 1).await;
    // Two wait for the next batch; one of them goes away before it starts.
    let gone = spawn_load(&c, 2);
    let stayer = spawn_load(&c, 3);
    queued(&c, 2).await;
    leaver.abort();
    gone.abort();
    until("the cancelled read closes", || {
        gone.is_finished() && leaver.is_finished()
    })
    .await;
    s.gate.add_permits(2);
    assert_found([3], vec![stayer]).await;
    // The read nobody waits for any more was not fetched.
    assert_eq!(batches(&s), vec![vec![1], vec![3]]);
}

#[tokio::test]
async fn reads_beyond_what_may_wait_fail_at_once_as_overloaded() {
    // One key per batch: 32 reads may wait.
    let (s, c, first) = held(1, 1).await;
    let waiting: Vec<_> = (2..=33).map(|k| spawn_load(&c, k)).collect();
    queued(&c, 32).await;
    assert_eq!(c.load(99).await, Err(Failed("overloaded")));
    s.gate.add_permits(33);
    assert_found([1], vec![first]).await;
    assert_found(2..=33, waiting).await;
}

#[test]
fn an_overloaded_or_abandoned_database_read_answers_as_the_kernel_maps_it() {
    use partner_kernel::error::KernelError;
    let status = |e: sea_orm::DbErr| tonic::Status::from(KernelError::Database(e)).code();
    // Too many waiting: the caller may retry, as after a pool timeout.
    assert_eq!(
        status(<sea_orm::DbErr as BatchError>::overloaded()),
        tonic::Code::Unavailable
    );
    assert_eq!(
        status(<sea_orm::DbErr as BatchError>::abandoned()),
        tonic::Code::Internal
    );
}

#[tokio::test]
async fn a_batch_that_panics_fails_its_callers_and_hands_the_waiting_reads_on() {
    let (s, c, doomed) = held(100, 999).await;
    let waiting = spawn_load(&c, 2);
    queued(&c, 1).await;
    s.gate.add_permits(2);
    assert_eq!(answer(doomed).await, Some(Err(Failed("abandoned"))));
    // Nobody else asks: the read that waited is still answered.
    assert_found([2], vec![waiting]).await;
    // And the slot is free again.
    s.gate.add_permits(1);
    assert_eq!(c.load(3).await, Ok(Some("v3".to_owned())));
}
