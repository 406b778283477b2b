//! Imports started from the browser run in the background; their progress is
//! kept here so the import page can show it while the rows are written.

use std::collections::HashMap;
use std::sync::Mutex;

use mamori_app::vendors::ImportReport;

#[derive(Debug, Clone)]
pub enum ImportState {
    Running { done: usize, total: usize },
    Finished(ImportReport),
    Failed { message: String, rows: Vec<String> },
}

#[derive(Debug, Clone)]
pub struct ImportJob {
    pub user_id: String,
    pub file_name: String,
    pub state: ImportState,
}

#[derive(Default)]
pub struct ImportJobs {
    jobs: Mutex<HashMap<String, ImportJob>>,
}

/// Finished jobs kept for the status page; older ones are dropped.
const KEEP_JOBS: usize = 200;

impl ImportJobs {
    pub fn start(&self, id: &str, user_id: &str, file_name: &str) {
        let mut jobs = self.jobs.lock().unwrap_or_else(|p| p.into_inner());
        if jobs.len() >= KEEP_JOBS {
            let finished: Vec<String> = jobs
                .iter()
                .filter(|(_, j)| !matches!(j.state, ImportState::Running { .. }))
                .map(|(k, _)| k.clone())
                .collect();
            for k in finished {
                jobs.remove(&k);
            }
        }
        jobs.insert(
            id.to_string(),
            ImportJob {
                user_id: user_id.to_string(),
                file_name: file_name.to_string(),
                state: ImportState::Running { done: 0, total: 0 },
            },
        );
    }

    pub fn update(&self, id: &str, state: ImportState) {
        let mut jobs = self.jobs.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(job) = jobs.get_mut(id) {
            job.state = state;
        }
    }

    pub fn get(&self, id: &str) -> Option<ImportJob> {
        let jobs = self.jobs.lock().unwrap_or_else(|p| p.into_inner());
        jobs.get(id).cloned()
    }
}
