//! Scoring speed: the shipped healthcare baseline at depth `full` (about 150
//! questions, many of them gated by `show_if` conditions) against a full,
//! deterministic set of answers. Target: under 1 ms per scoring.
//!
//! `cargo bench -p mamori-domain --bench scoring`

use std::collections::HashMap;
use std::hint::black_box;

use chrono::{Duration, NaiveDate};
use criterion::{criterion_group, criterion_main, Criterion};
use mamori_domain::questionnaire::{baseline, AnswerType, Question, Template};
use mamori_domain::scoring::{score, Answer, Outcome};

fn as_of() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 6, 1).unwrap_or(NaiveDate::MIN)
}

fn full_baseline() -> Template {
    let file = baseline().expect("the shipped baseline parses");
    file.template(Some("full"))
        .expect("the baseline has a 'full' depth")
}

/// A value of a choice question other than its passing ones; for an
/// unscored question (e.g. an informational gate) the last value, so the
/// gate answers differently from `passing_value` and hides its follow-ups.
fn failing_value(q: &Question) -> String {
    let allowed: Vec<&str> = q
        .allowed_values()
        .into_iter()
        .filter(|v| *v != "na")
        .collect();
    let pick = if q.pass.is_empty() {
        allowed.last().copied()
    } else {
        allowed
            .iter()
            .copied()
            .find(|v| !q.pass.iter().any(|p| p == v))
    };
    pick.or_else(|| allowed.first().copied())
        .unwrap_or("no")
        .to_string()
}

fn passing_value(q: &Question) -> String {
    q.pass
        .first()
        .cloned()
        .or_else(|| q.allowed_values().first().map(|v| v.to_string()))
        .unwrap_or_else(|| "yes".into())
}

/// Answers every question. Every `fail_every`-th question gets a failing
/// answer (and every 11th a not-applicable one where allowed), so some gates
/// open their follow-ups and others hide them: the condition logic runs on
/// both branches. `fail_every = 0` passes everything.
fn answers(template: &Template, fail_every: usize) -> HashMap<String, Answer> {
    let today = as_of();
    template
        .questions
        .iter()
        .enumerate()
        .map(|(i, q)| {
            let fail = fail_every > 0 && i % fail_every == fail_every - 1;
            let na = fail_every > 0 && q.allow_na && i % 11 == 5;
            let answer = if na {
                Answer::NotApplicable
            } else {
                match q.answer_type {
                    AnswerType::YesNo | AnswerType::Single => Answer::Choice(if fail {
                        failing_value(q)
                    } else {
                        passing_value(q)
                    }),
                    AnswerType::Multiple => Answer::Choices(if fail {
                        vec![failing_value(q)]
                    } else if q.pass.is_empty() {
                        vec![passing_value(q)]
                    } else {
                        q.pass.clone()
                    }),
                    AnswerType::Number => {
                        let inside = match (q.min, q.max) {
                            (Some(a), Some(b)) => (a + b) / 2.0,
                            (Some(a), None) => a + 1.0,
                            (None, Some(b)) => b - 1.0,
                            (None, None) => 1.0,
                        };
                        let outside = match (q.min, q.max) {
                            (Some(a), _) => a - 1.0,
                            (None, Some(b)) => b + 1.0,
                            (None, None) => -1.0,
                        };
                        Answer::Number(if fail { outside } else { inside })
                    }
                    AnswerType::Date => {
                        let age = i64::from(q.max_age_days.unwrap_or(365));
                        Answer::Date(today - Duration::days(if fail { age + 30 } else { age / 2 }))
                    }
                    AnswerType::Text => Answer::Text(format!("Answer to {}", q.id)),
                    AnswerType::File => Answer::Files(if fail { 0 } else { 2 }),
                }
            };
            (q.id.clone(), answer)
        })
        .collect()
}

fn bench_scoring(c: &mut Criterion) {
    let template = full_baseline();
    let gated = template
        .questions
        .iter()
        .filter(|q| q.show_if.is_some())
        .count();
    let mixed = answers(&template, 3);
    let passing = answers(&template, 0);

    // Check once that the mixed answers really exercise the conditions.
    let card = score(&template, &mixed, as_of());
    let count = |o: Outcome| card.outcomes.iter().filter(|(_, x)| *x == o).count();
    eprintln!(
        "template {} {}: {} questions ({gated} gated); mixed answers: {} visible, {} pass, {} fail, \
         {} n/a, {} hidden-credited, {} hidden-forfeited, {} hidden-excluded, {} findings, score {:?}",
        template.key,
        template.version,
        template.questions.len(),
        card.visible,
        count(Outcome::Pass),
        count(Outcome::Fail),
        count(Outcome::NotApplicable),
        count(Outcome::HiddenCredited),
        count(Outcome::HiddenForfeited),
        count(Outcome::HiddenExcluded),
        card.findings.len(),
        card.overall.score(),
    );
    assert!(
        card.visible < template.questions.len(),
        "some questions are hidden"
    );
    assert!(!card.findings.is_empty(), "some answers fail");

    let mut group = c.benchmark_group("score");
    group.bench_function("baseline_full_mixed_answers", |b| {
        b.iter(|| score(black_box(&template), black_box(&mixed), black_box(as_of())))
    });
    group.bench_function("baseline_full_all_passing", |b| {
        b.iter(|| {
            score(
                black_box(&template),
                black_box(&passing),
                black_box(as_of()),
            )
        })
    });
    group.bench_function("baseline_full_unanswered", |b| {
        let none = HashMap::new();
        b.iter(|| score(black_box(&template), black_box(&none), black_box(as_of())))
    });
    group.finish();
}

criterion_group!(benches, bench_scoring);
criterion_main!(benches);
