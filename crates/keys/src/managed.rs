//! What Mamori puts between itself and any key manager: a retry policy for
//! a manager that is briefly down, and an optional, bounded cache of
//! unwrapped data keys for reads.
//!
//! The cache is a trade-off the operator chooses: with it, a revoked KEK
//! stops reads only once cached keys expire (at most `max_age` later, or
//! after `max_uses` reads of one key); without it, every read asks the key
//! manager. It is flushed on rotation, destruction, and whenever the key
//! manager refuses a key (the sign of a revocation).

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::{Binding, DataKey, Dek, KekRef, KeyError, KeyProvider};

/// Retries of calls that failed because the key manager was unavailable.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Tries in all, the first included (1 = no retry).
    pub attempts: u32,
    /// Wait before the second try; doubled before each further one.
    pub backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 3,
            backoff: Duration::from_millis(200),
        }
    }
}

/// Limits of the read cache of unwrapped data keys.
#[derive(Debug, Clone, Copy)]
pub struct CachePolicy {
    pub max_age: Duration,
    pub max_uses: u32,
    pub max_entries: usize,
}

struct Cached {
    dek: Dek,
    since: Instant,
    uses: u32,
}

type CacheKey = (KekRef, Vec<u8>, String);

/// A key provider with retries and an optional read cache.
pub struct ManagedProvider {
    inner: Box<dyn KeyProvider>,
    retry: RetryPolicy,
    cache_policy: Option<CachePolicy>,
    cache: Mutex<HashMap<CacheKey, Cached>>,
    refusals: OnceLock<RefusalObserver>,
}

/// The key manager refused a record's key: the KEK was revoked, disabled or
/// destroyed — the customer's kill switch, or a shredded vendor.
#[derive(Debug)]
pub struct Refusal<'a> {
    /// The tenant of the record whose key was refused.
    pub tenant: &'a str,
    pub kek: &'a str,
    pub reason: &'a str,
}

/// Told of every refusal, on the thread that made the key call (so it must
/// not block for long).
pub type RefusalObserver = Box<dyn Fn(&Refusal<'_>) + Send + Sync>;

impl ManagedProvider {
    pub fn new(
        inner: Box<dyn KeyProvider>,
        retry: RetryPolicy,
        cache: Option<CachePolicy>,
    ) -> Self {
        ManagedProvider {
            inner,
            retry,
            cache_policy: cache,
            cache: Mutex::new(HashMap::new()),
            refusals: OnceLock::new(),
        }
    }

    /// Has `observer` told of every refusal from now on (e.g. to audit the
    /// kill switch). One observer per provider: returns false, and keeps
    /// the first, when one is set already.
    pub fn observe_refusals(&self, observer: RefusalObserver) -> bool {
        self.refusals.set(observer).is_ok()
    }

    fn noticed<T>(
        &self,
        result: Result<T, KeyError>,
        kek: &str,
        binding: &Binding<'_>,
    ) -> Result<T, KeyError> {
        if let (Err(KeyError::Unwrap(reason)), Some(observer)) = (&result, self.refusals.get()) {
            observer(&Refusal {
                tenant: binding.tenant,
                kek,
                reason,
            });
        }
        result
    }

    /// Forgets every cached data key.
    pub fn flush(&self) {
        if let Ok(mut cache) = self.cache.lock() {
            cache.clear();
        }
    }

    /// How many data keys are cached now.
    pub fn cached(&self) -> usize {
        self.cache.lock().map(|c| c.len()).unwrap_or(0)
    }

    fn with_retry<T>(&self, mut call: impl FnMut() -> Result<T, KeyError>) -> Result<T, KeyError> {
        let mut wait = self.retry.backoff;
        let attempts = self.retry.attempts.max(1);
        for attempt in 1..=attempts {
            match call() {
                Err(KeyError::Unavailable(reason)) if attempt < attempts => {
                    tracing::warn!(
                        provider = self.inner.name(),
                        attempt,
                        %reason,
                        "key manager unavailable, retrying"
                    );
                    std::thread::sleep(wait);
                    wait = wait.saturating_mul(2);
                }
                Err(e @ KeyError::Unwrap(_)) => {
                    // A refusal may be a revocation: nothing cached may
                    // outlive it.
                    self.flush();
                    return Err(e);
                }
                other => return other,
            }
        }
        Err(KeyError::Unavailable("no attempt was made".into()))
    }

    fn cache_key(kek: &KekRef, wrapped: &[u8], binding: &Binding<'_>) -> CacheKey {
        (
            kek.clone(),
            wrapped.to_vec(),
            format!(
                "{}\u{0}{}\u{0}{}",
                binding.tenant, binding.kind, binding.object_id
            ),
        )
    }
}

impl KeyProvider for ManagedProvider {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn generate_data_key(&self, kek_id: &str, binding: &Binding<'_>) -> Result<DataKey, KeyError> {
        // Never cached: every object gets a fresh key.
        let result = self.with_retry(|| self.inner.generate_data_key(kek_id, binding));
        self.noticed(result, kek_id, binding)
    }

    fn unwrap_data_key(
        &self,
        kek: &KekRef,
        wrapped: &[u8],
        binding: &Binding<'_>,
    ) -> Result<Dek, KeyError> {
        let Some(policy) = self.cache_policy else {
            let result = self.with_retry(|| self.inner.unwrap_data_key(kek, wrapped, binding));
            return self.noticed(result, &kek.id, binding);
        };
        let key = Self::cache_key(kek, wrapped, binding);
        if let Ok(mut cache) = self.cache.lock() {
            if let Some(hit) = cache.get_mut(&key) {
                if hit.since.elapsed() <= policy.max_age && hit.uses < policy.max_uses {
                    hit.uses += 1;
                    return Ok(Dek::new(*hit.dek));
                }
                cache.remove(&key);
            }
        }
        let result = self.with_retry(|| self.inner.unwrap_data_key(kek, wrapped, binding));
        let dek = self.noticed(result, &kek.id, binding)?;
        if let Ok(mut cache) = self.cache.lock() {
            cache.retain(|_, c| c.since.elapsed() <= policy.max_age);
            if cache.len() >= policy.max_entries {
                if let Some(oldest) = cache
                    .iter()
                    .min_by_key(|(_, c)| c.since)
                    .map(|(k, _)| k.clone())
                {
                    cache.remove(&oldest);
                }
            }
            if policy.max_entries > 0 {
                cache.insert(
                    key,
                    Cached {
                        dek: Dek::new(*dek),
                        since: Instant::now(),
                        uses: 1,
                    },
                );
            }
        }
        Ok(dek)
    }

    fn rewrap_data_key(
        &self,
        kek: &KekRef,
        wrapped: &[u8],
        binding: &Binding<'_>,
    ) -> Result<(KekRef, Vec<u8>), KeyError> {
        let result = self.with_retry(|| self.inner.rewrap_data_key(kek, wrapped, binding));
        self.noticed(result, &kek.id, binding)
    }

    fn current_version(&self, kek_id: &str) -> Result<u32, KeyError> {
        self.with_retry(|| self.inner.current_version(kek_id))
    }

    fn ensure_kek(&self, kek_id: &str) -> Result<KekRef, KeyError> {
        // Not retried: a creation that reached the manager but whose answer
        // was lost must not create a second key (AWS KMS keys are not
        // named until their alias exists).
        self.inner.ensure_kek(kek_id)
    }

    fn rotate_kek(&self, kek_id: &str) -> Result<KekRef, KeyError> {
        // Not retried: a rotation that reached the manager but whose answer
        // was lost must not rotate twice.
        self.flush();
        self.inner.rotate_kek(kek_id)
    }

    fn destroy_kek(&self, kek_id: &str) -> Result<(), KeyError> {
        self.flush();
        let result = self.with_retry(|| self.inner.destroy_kek(kek_id));
        self.flush();
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::local::LocalKeyProvider;
    use crate::{open, seal, DEFAULT_KEK};
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;

    /// Counts unwraps and fails the first `failures` calls as unavailable.
    struct Flaky {
        inner: Arc<LocalKeyProvider>,
        failures: AtomicU32,
        unwraps: Arc<AtomicU32>,
    }

    impl KeyProvider for Flaky {
        fn name(&self) -> &str {
            "flaky"
        }
        fn generate_data_key(&self, kek_id: &str, b: &Binding<'_>) -> Result<DataKey, KeyError> {
            if self.failures.load(Ordering::SeqCst) > 0 {
                self.failures.fetch_sub(1, Ordering::SeqCst);
                return Err(KeyError::Unavailable("connection refused".into()));
            }
            self.inner.generate_data_key(kek_id, b)
        }
        fn unwrap_data_key(&self, k: &KekRef, w: &[u8], b: &Binding<'_>) -> Result<Dek, KeyError> {
            self.unwraps.fetch_add(1, Ordering::SeqCst);
            self.inner.unwrap_data_key(k, w, b)
        }
        fn rewrap_data_key(
            &self,
            k: &KekRef,
            w: &[u8],
            b: &Binding<'_>,
        ) -> Result<(KekRef, Vec<u8>), KeyError> {
            self.inner.rewrap_data_key(k, w, b)
        }
        fn current_version(&self, kek_id: &str) -> Result<u32, KeyError> {
            self.inner.current_version(kek_id)
        }
        fn ensure_kek(&self, kek_id: &str) -> Result<KekRef, KeyError> {
            self.inner.ensure_kek(kek_id)
        }
        fn rotate_kek(&self, kek_id: &str) -> Result<KekRef, KeyError> {
            self.inner.rotate_kek(kek_id)
        }
        fn destroy_kek(&self, kek_id: &str) -> Result<(), KeyError> {
            self.inner.destroy_kek(kek_id)
        }
    }

    fn binding(id: &str) -> Binding<'_> {
        Binding {
            tenant: "t",
            kind: "evidence",
            object_id: id,
        }
    }

    fn setup(
        failures: u32,
        cache: Option<CachePolicy>,
    ) -> (tempfile::TempDir, ManagedProvider, Arc<AtomicU32>) {
        let dir = tempfile::tempdir().unwrap();
        let local = Arc::new(
            LocalKeyProvider::create(&dir.path().join("k.json"), b"a long test passphrase")
                .unwrap(),
        );
        let unwraps = Arc::new(AtomicU32::new(0));
        let flaky = Flaky {
            inner: local,
            failures: AtomicU32::new(failures),
            unwraps: Arc::clone(&unwraps),
        };
        let retry = RetryPolicy {
            attempts: 3,
            backoff: Duration::from_millis(1),
        };
        (
            dir,
            ManagedProvider::new(Box::new(flaky), retry, cache),
            unwraps,
        )
    }

    #[test]
    fn a_briefly_unavailable_manager_is_retried_and_a_longer_outage_is_reported() {
        let (_d, p, _) = setup(2, None);
        assert!(seal(&p, DEFAULT_KEK, &binding("a"), b"x").is_ok());
        let (_d, p, _) = setup(3, None);
        assert!(matches!(
            seal(&p, DEFAULT_KEK, &binding("a"), b"x"),
            Err(KeyError::Unavailable(_))
        ));
    }

    #[test]
    fn the_cache_serves_reads_within_its_limits_and_is_flushed_on_rotation_and_refusal() {
        let policy = CachePolicy {
            max_age: Duration::from_secs(60),
            max_uses: 3,
            max_entries: 8,
        };
        let (_d, p, unwraps) = setup(0, Some(policy));
        let env = seal(&p, DEFAULT_KEK, &binding("a"), b"doc").unwrap();
        for _ in 0..3 {
            assert_eq!(open(&p, &binding("a"), &env).unwrap(), b"doc");
        }
        assert_eq!(unwraps.load(Ordering::SeqCst), 1, "3 reads, 1 unwrap");
        // The fourth read is past max_uses: asks the manager again.
        open(&p, &binding("a"), &env).unwrap();
        assert_eq!(unwraps.load(Ordering::SeqCst), 2);
        // The cache is keyed by the record too: a moved ciphertext still fails.
        assert!(open(&p, &binding("b"), &env).is_err());
        p.rotate_kek(DEFAULT_KEK).unwrap();
        assert_eq!(p.cached(), 0);
        open(&p, &binding("a"), &env).unwrap();
        assert_eq!(p.cached(), 1);
        // Destroying the KEK flushes: the cached key does not outlive it.
        p.destroy_kek(DEFAULT_KEK).unwrap();
        assert_eq!(p.cached(), 0);
        assert!(matches!(
            open(&p, &binding("a"), &env),
            Err(KeyError::Unwrap(_))
        ));
    }

    #[test]
    fn without_a_cache_every_read_asks_the_manager() {
        let (_d, p, unwraps) = setup(0, None);
        let env = seal(&p, DEFAULT_KEK, &binding("a"), b"doc").unwrap();
        for _ in 0..4 {
            open(&p, &binding("a"), &env).unwrap();
        }
        assert_eq!(unwraps.load(Ordering::SeqCst), 4);
        assert_eq!(p.cached(), 0);
    }

    #[test]
    fn refusals_are_told_to_the_observer_with_tenant_and_kek() {
        let (_d, p, _) = setup(0, None);
        let seen = Arc::new(Mutex::new(Vec::<(String, String)>::new()));
        let sink = Arc::clone(&seen);
        assert!(p.observe_refusals(Box::new(move |r: &Refusal<'_>| {
            if let Ok(mut v) = sink.lock() {
                v.push((r.tenant.to_string(), r.kek.to_string()));
            }
        })));
        assert!(!p.observe_refusals(Box::new(|_: &Refusal<'_>| {})));
        let env = seal(&p, DEFAULT_KEK, &binding("a"), b"doc").unwrap();
        open(&p, &binding("a"), &env).unwrap();
        assert!(seen.lock().unwrap().is_empty(), "a success is no refusal");
        p.destroy_kek(DEFAULT_KEK).unwrap();
        assert!(open(&p, &binding("a"), &env).is_err());
        assert!(seal(&p, DEFAULT_KEK, &binding("b"), b"doc").is_err());
        let seen = seen.lock().unwrap().clone();
        assert_eq!(seen.len(), 2, "{seen:?}");
        assert!(seen.iter().all(|(t, k)| t == "t" && k == DEFAULT_KEK));
    }
}
