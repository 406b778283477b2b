use std::sync::Arc;

use mamori_domain::assessment::AssessmentPolicy;
use mamori_domain::contract::ClauseCatalog;
use mamori_domain::risk::RiskPolicy;
use mamori_domain::TieringPolicy;
use mamori_store::blob::BlobStore;
use mamori_store::Store;
use tokio::sync::RwLock;

use crate::auth::LoginLimiter;
use crate::i18n::Catalog;
use crate::imports::ImportJobs;

/// Settings the web layer needs; built from the CLI's configuration.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Mark cookies `Secure`: on whenever Mamori is reached over HTTPS.
    pub secure_cookies: bool,
    /// Hours a sign-in lasts.
    pub session_hours: i64,
    /// Largest upload accepted (imports, policy files).
    pub max_upload_bytes: usize,
}

impl Default for WebConfig {
    fn default() -> Self {
        Self {
            secure_cookies: false,
            session_hours: 12,
            max_upload_bytes: 200 * 1024 * 1024,
        }
    }
}

/// Shared by every request; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub org_id: String,
    /// The policy in force, kept in memory so tiering a vendor needs no query.
    pub policy: Arc<RwLock<TieringPolicy>>,
    pub config: Arc<WebConfig>,
    pub catalog: Arc<Catalog>,
    pub limiter: Arc<LoginLimiter>,
    pub imports: Arc<ImportJobs>,
    /// The organisation's display name, read once.
    pub org_name: Arc<std::sync::OnceLock<String>>,
    pub assessment_policy: Arc<AssessmentPolicy>,
    /// Where evidence files go; `None` until the server configures it, and
    /// uploads are refused meanwhile.
    pub blobs: Option<Arc<dyn BlobStore>>,
    /// The customer's key manager (for key operations such as shredding).
    pub keys: Option<Arc<dyn mamori_keys::KeyProvider>>,
    /// One KEK per vendor (needed to shred one vendor's data).
    pub per_vendor_keys: bool,
    /// The risk policy in force (matrix, threshold, deadlines, acceptance).
    pub risk_policy: Arc<RwLock<RiskPolicy>>,
    /// The contract clause catalog shipped with Mamori.
    pub clauses: Arc<ClauseCatalog>,
}

impl AppState {
    pub fn new(store: Store, org_id: String, policy: TieringPolicy, config: WebConfig) -> Self {
        Self {
            store,
            org_id,
            policy: Arc::new(RwLock::new(policy)),
            config: Arc::new(config),
            catalog: Arc::new(Catalog::builtin()),
            limiter: Arc::new(LoginLimiter::default()),
            imports: Arc::new(ImportJobs::default()),
            org_name: Arc::new(std::sync::OnceLock::new()),
            assessment_policy: Arc::new(AssessmentPolicy::default_policy()),
            blobs: None,
            keys: None,
            per_vendor_keys: false,
            risk_policy: Arc::new(RwLock::new(RiskPolicy::default_policy())),
            clauses: Arc::new(ClauseCatalog::builtin()),
        }
    }

    /// Stores evidence files in `blobs`.
    pub fn with_blob_store(mut self, blobs: Arc<dyn BlobStore>) -> Self {
        self.blobs = Some(blobs);
        self
    }

    /// Key operations (shredding) go to `keys`; `per_vendor_keys` says
    /// whether each vendor's data is under its own KEK.
    pub fn with_key_provider(
        mut self,
        keys: Arc<dyn mamori_keys::KeyProvider>,
        per_vendor_keys: bool,
    ) -> Self {
        self.keys = Some(keys);
        self.per_vendor_keys = per_vendor_keys;
        self
    }

    pub async fn org_name(&self) -> String {
        if let Some(name) = self.org_name.get() {
            return name.clone();
        }
        match self.store.organisation_name(&self.org_id).await {
            Ok(name) => self.org_name.get_or_init(|| name).clone(),
            Err(_) => String::new(),
        }
    }

    /// The policy in force. When another instance (or the CLI) applied a
    /// newer one, it is loaded first, so nothing is tiered under old rules.
    pub async fn policy(&self) -> TieringPolicy {
        let in_memory = self.policy.read().await.clone();
        match self.store.active_policy_version(&self.org_id).await {
            Ok(Some(version)) if version != in_memory.version => {
                match mamori_app::policy::current_policy(&self.store, &self.org_id).await {
                    Ok(fresh) => {
                        *self.policy.write().await = fresh.clone();
                        fresh
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "reloading the tiering policy failed");
                        in_memory
                    }
                }
            }
            _ => in_memory,
        }
    }

    /// The risk policy in force, reloaded when another instance (or the
    /// CLI) applied a newer one.
    pub async fn risk_policy(&self) -> RiskPolicy {
        let in_memory = self.risk_policy.read().await.clone();
        match self.store.active_risk_policy(&self.org_id).await {
            // Compared whole, so a policy re-applied under the same version
            // with other rules is picked up too.
            Ok(Some((_, content))) => match RiskPolicy::parse(&content) {
                Ok(fresh) if fresh == in_memory => in_memory,
                Ok(fresh) => {
                    *self.risk_policy.write().await = fresh.clone();
                    fresh
                }
                Err(e) => {
                    tracing::error!(error = %e, "reloading the risk policy failed");
                    in_memory
                }
            },
            _ => in_memory,
        }
    }
}
