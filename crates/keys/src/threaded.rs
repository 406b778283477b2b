//! A key provider kept on a thread of its own. The HTTP providers use a
//! blocking client that must not be created, used or dropped on an async
//! runtime's threads; behind this wrapper every call, and the drop, happen
//! on the provider's own thread, so any caller — async or not — may hold
//! it.

use std::sync::mpsc;
use std::sync::Mutex;

use crate::{Binding, DataKey, Dek, KekRef, KeyError, KeyProvider};

type Job = Box<dyn FnOnce(&dyn KeyProvider) + Send>;

pub struct OwnThread {
    jobs: Mutex<mpsc::Sender<Job>>,
    name: String,
}

fn gone() -> KeyError {
    KeyError::Unavailable("the key provider's thread has stopped".into())
}

impl OwnThread {
    /// Builds the provider with `make` on a new thread and keeps it there.
    pub fn spawn<F>(make: F) -> Result<Self, KeyError>
    where
        F: FnOnce() -> Result<Box<dyn KeyProvider>, KeyError> + Send + 'static,
    {
        let (jobs, inbox) = mpsc::channel::<Job>();
        let (ready, started) = mpsc::channel::<Result<String, KeyError>>();
        std::thread::Builder::new()
            .name("mamori-keys".into())
            .spawn(move || match make() {
                Ok(provider) => {
                    let _ = ready.send(Ok(provider.name().to_string()));
                    for job in inbox {
                        job(provider.as_ref());
                    }
                    // The provider is dropped here, on its own thread.
                }
                Err(e) => {
                    let _ = ready.send(Err(e));
                }
            })
            .map_err(|e| {
                KeyError::Unavailable(format!("cannot start the key provider's thread: {e}"))
            })?;
        let name = started.recv().map_err(|_| gone())??;
        Ok(OwnThread {
            jobs: Mutex::new(jobs),
            name,
        })
    }

    fn call<T, F>(&self, f: F) -> Result<T, KeyError>
    where
        T: Send + 'static,
        F: FnOnce(&dyn KeyProvider) -> Result<T, KeyError> + Send + 'static,
    {
        let (reply, answer) = mpsc::channel();
        let job: Job = Box::new(move |p| {
            let _ = reply.send(f(p));
        });
        self.jobs
            .lock()
            .map_err(|_| gone())?
            .send(job)
            .map_err(|_| gone())?;
        answer.recv().map_err(|_| gone())?
    }
}

struct OwnedBinding {
    tenant: String,
    kind: String,
    object_id: String,
}

impl OwnedBinding {
    fn of(b: &Binding<'_>) -> Self {
        OwnedBinding {
            tenant: b.tenant.to_string(),
            kind: b.kind.to_string(),
            object_id: b.object_id.to_string(),
        }
    }

    fn borrow(&self) -> Binding<'_> {
        Binding {
            tenant: &self.tenant,
            kind: &self.kind,
            object_id: &self.object_id,
        }
    }
}

impl KeyProvider for OwnThread {
    fn name(&self) -> &str {
        &self.name
    }

    fn generate_data_key(&self, kek_id: &str, binding: &Binding<'_>) -> Result<DataKey, KeyError> {
        let (kek, b) = (kek_id.to_string(), OwnedBinding::of(binding));
        self.call(move |p| p.generate_data_key(&kek, &b.borrow()))
    }

    fn unwrap_data_key(
        &self,
        kek: &KekRef,
        wrapped: &[u8],
        binding: &Binding<'_>,
    ) -> Result<Dek, KeyError> {
        let (kek, wrapped, b) = (kek.clone(), wrapped.to_vec(), OwnedBinding::of(binding));
        self.call(move |p| p.unwrap_data_key(&kek, &wrapped, &b.borrow()))
    }

    fn rewrap_data_key(
        &self,
        kek: &KekRef,
        wrapped: &[u8],
        binding: &Binding<'_>,
    ) -> Result<(KekRef, Vec<u8>), KeyError> {
        let (kek, wrapped, b) = (kek.clone(), wrapped.to_vec(), OwnedBinding::of(binding));
        self.call(move |p| p.rewrap_data_key(&kek, &wrapped, &b.borrow()))
    }

    fn current_version(&self, kek_id: &str) -> Result<u32, KeyError> {
        let kek = kek_id.to_string();
        self.call(move |p| p.current_version(&kek))
    }

    fn ensure_kek(&self, kek_id: &str) -> Result<KekRef, KeyError> {
        let kek = kek_id.to_string();
        self.call(move |p| p.ensure_kek(&kek))
    }

    fn rotate_kek(&self, kek_id: &str) -> Result<KekRef, KeyError> {
        let kek = kek_id.to_string();
        self.call(move |p| p.rotate_kek(&kek))
    }

    fn destroy_kek(&self, kek_id: &str) -> Result<(), KeyError> {
        let kek = kek_id.to_string();
        self.call(move |p| p.destroy_kek(&kek))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::local::LocalKeyProvider;
    use crate::{open, seal, DEFAULT_KEK};

    #[test]
    fn calls_and_errors_pass_through_the_thread() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.json");
        let p = OwnThread::spawn(move || {
            Ok(
                Box::new(LocalKeyProvider::create(&path, b"a long test passphrase")?)
                    as Box<dyn KeyProvider>,
            )
        })
        .unwrap();
        assert_eq!(p.name(), "local");
        let b = Binding {
            tenant: "t",
            kind: "k",
            object_id: "o",
        };
        let env = seal(&p, DEFAULT_KEK, &b, b"doc").unwrap();
        assert_eq!(open(&p, &b, &env).unwrap(), b"doc");
        assert!(matches!(
            p.current_version("nope"),
            Err(KeyError::Unwrap(_))
        ));
        let failed = OwnThread::spawn(|| Err(KeyError::Config("bad".into())));
        assert!(matches!(failed, Err(KeyError::Config(_))));
    }
}
