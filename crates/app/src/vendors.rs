//! Registering, editing, importing and exporting vendors.

use mamori_domain::{assess, TieringPolicy, VendorDraft};
use mamori_formats::export::{write_csv, write_json, write_xlsx, ExportRecord};
use mamori_formats::inventory::{parse_inventory, RowError};
use mamori_store::{Actor, ImportOutcome, ImportProgress, Store, VendorScope};

use crate::AppError;

pub async fn create_vendor(
    store: &Store,
    org_id: &str,
    policy: &TieringPolicy,
    draft: &VendorDraft,
    actor: &Actor,
) -> Result<String, AppError> {
    let problems = draft.validate();
    if !problems.is_empty() {
        return Err(AppError::Invalid(problems));
    }
    let risk = assess(policy, draft.risk_profile()).rating();
    Ok(store.create_vendor(org_id, draft, &risk, actor).await?)
}

pub async fn update_vendor(
    store: &Store,
    org_id: &str,
    policy: &TieringPolicy,
    id: &str,
    draft: &VendorDraft,
    scope: &VendorScope,
    actor: &Actor,
) -> Result<(), AppError> {
    let problems = draft.validate();
    if !problems.is_empty() {
        return Err(AppError::Invalid(problems));
    }
    let risk = assess(policy, draft.risk_profile()).rating();
    store
        .update_vendor(org_id, id, draft, &risk, scope, actor)
        .await?;
    // The vendor's tier may set a stricter risk threshold.
    let risks: Vec<String> = store
        .risks_for_vendor(org_id, id)
        .await?
        .into_iter()
        .map(|r| r.id)
        .collect();
    if !risks.is_empty() {
        let risk_policy = crate::risks::current_risk_policy(store, org_id).await?;
        crate::risks::reevaluate_risks(store, org_id, &risk_policy, &risks, actor).await?;
    }
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ImportOptions {
    /// Import the valid rows and report the others, instead of rejecting
    /// the whole file.
    pub skip_invalid: bool,
    /// Validate only; change nothing.
    pub dry_run: bool,
}

/// A file handed to the importer.
#[derive(Debug, Clone, Copy)]
pub struct Upload<'a> {
    pub file_name: &'a str,
    pub bytes: &'a [u8],
    pub options: ImportOptions,
}

#[derive(Debug, Clone)]
pub struct ImportReport {
    pub file_name: String,
    pub rows_read: usize,
    pub valid_rows: usize,
    pub errors: Vec<RowError>,
    pub dry_run: bool,
    /// `None` for a dry run.
    pub outcome: Option<ImportOutcome>,
}

/// Parses, validates and tiers a whole file first; only then writes, in one
/// transaction. A file with any bad row changes nothing unless
/// `skip_invalid` is set.
pub async fn import_file(
    store: &Store,
    org_id: &str,
    policy: &TieringPolicy,
    upload: Upload<'_>,
    actor: &Actor,
    progress: &(dyn Fn(ImportProgress) + Send + Sync),
) -> Result<ImportReport, AppError> {
    let Upload {
        file_name,
        bytes,
        options,
    } = upload;
    let parsed = parse_inventory(file_name, bytes)?;
    let rows_read = parsed.rows.len() + error_rows(&parsed.errors);
    if !parsed.errors.is_empty() && !options.skip_invalid {
        return Err(AppError::RowsRejected(parsed.errors));
    }
    let tiered: Vec<_> = parsed
        .rows
        .into_iter()
        .map(|row| {
            let risk = assess(policy, row.vendor.risk_profile()).rating();
            (row.vendor, risk)
        })
        .collect();
    let mut report = ImportReport {
        file_name: file_name.to_string(),
        rows_read,
        valid_rows: tiered.len(),
        errors: parsed.errors,
        dry_run: options.dry_run,
        outcome: None,
    };
    if !options.dry_run {
        report.outcome = Some(
            store
                .import_vendors(org_id, &tiered, file_name, actor, progress)
                .await?,
        );
    }
    Ok(report)
}

fn error_rows(errors: &[RowError]) -> usize {
    let mut rows: Vec<usize> = errors.iter().map(|e| e.row).collect();
    rows.sort_unstable();
    rows.dedup();
    rows.len()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    Xlsx,
    Json,
}

impl ExportFormat {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw.to_ascii_lowercase().as_str() {
            "csv" => Some(Self::Csv),
            "xlsx" => Some(Self::Xlsx),
            "json" => Some(Self::Json),
            _ => None,
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Xlsx => "xlsx",
            Self::Json => "json",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Csv => "text/csv; charset=utf-8",
            Self::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Self::Json => "application/json",
        }
    }
}

/// Every vendor in scope, with tier and scores, in one file.
pub async fn export_vendors(
    store: &Store,
    org_id: &str,
    scope: &VendorScope,
    format: ExportFormat,
) -> Result<Vec<u8>, AppError> {
    let vendors = store.all_vendors(org_id, scope, true).await?;
    let records = vendors.iter().map(|(id, _, draft, risk)| ExportRecord {
        id,
        vendor: draft,
        risk: risk.as_ref(),
    });
    let mut out = Vec::new();
    match format {
        ExportFormat::Csv => {
            write_csv(records, &mut out).map_err(|e| AppError::Export(e.to_string()))?
        }
        ExportFormat::Json => {
            write_json(records, &mut out).map_err(|e| AppError::Export(e.to_string()))?
        }
        ExportFormat::Xlsx => {
            out = write_xlsx(records).map_err(|e| AppError::Export(e.to_string()))?
        }
    }
    Ok(out)
}
