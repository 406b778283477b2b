//! The risk register as a file: every risk a query selects, as CSV or XLSX.

use mamori_formats::risk_export::{write_risks_csv, write_risks_xlsx, RiskExportRow};
use mamori_store::{RiskQuery, RiskRecord, Store};

use crate::vendors::ExportFormat;
use crate::AppError;

/// Risks fetched per query while exporting (the store's largest page).
const EXPORT_PAGE: u32 = 1000;

fn row(r: &RiskRecord) -> RiskExportRow<'_> {
    RiskExportRow {
        id: &r.id,
        vendor: &r.vendor_name,
        tier: &r.vendor_tier,
        category: &r.category,
        title: &r.title,
        owner: r.owner_name.as_deref().unwrap_or(""),
        inherent_likelihood: r.inherent_likelihood,
        inherent_impact: r.inherent_impact,
        residual_likelihood: r.residual_likelihood,
        residual_impact: r.residual_impact,
        residual_score: r.residual_score,
        residual_level: &r.residual_level,
        above_threshold: r.above_threshold,
        threshold_reason: r.threshold_reason.as_deref().unwrap_or(""),
        treatment: &r.treatment,
        status: &r.status,
        due_on: r.due_on.as_deref().unwrap_or(""),
        findings: r.finding_count,
        updated_at: &r.updated_at,
    }
}

/// Writes risks as CSV or XLSX, one row each. JSON is not a register
/// format: the API lists risks as JSON already.
pub fn write_risks(records: &[RiskRecord], format: ExportFormat) -> Result<Vec<u8>, AppError> {
    let rows = records.iter().map(row);
    match format {
        ExportFormat::Csv => {
            let mut out = Vec::new();
            write_risks_csv(rows, &mut out).map_err(|e| AppError::Export(e.to_string()))?;
            Ok(out)
        }
        ExportFormat::Xlsx => write_risks_xlsx(rows).map_err(|e| AppError::Export(e.to_string())),
        ExportFormat::Json => Err(AppError::Risk(
            "the risk register exports as csv or xlsx".into(),
        )),
    }
}

/// Every risk `query` selects (its limit and offset are ignored), fetched
/// page by page in the query's order.
pub async fn all_risks(
    store: &Store,
    org_id: &str,
    query: &RiskQuery,
) -> Result<Vec<RiskRecord>, AppError> {
    let mut query = query.clone();
    query.limit = EXPORT_PAGE;
    query.offset = 0;
    let mut out = Vec::new();
    loop {
        let page = store.list_risks(org_id, &query).await?;
        let fetched = page.risks.len();
        out.extend(page.risks);
        if fetched < EXPORT_PAGE as usize || out.len() as i64 >= page.total {
            return Ok(out);
        }
        query.offset = query.offset.saturating_add(EXPORT_PAGE);
    }
}

/// The register (every risk `query` selects) as a file.
pub async fn export_risks(
    store: &Store,
    org_id: &str,
    query: &RiskQuery,
    format: ExportFormat,
) -> Result<Vec<u8>, AppError> {
    let risks = all_risks(store, org_id, query).await?;
    write_risks(&risks, format)
}
