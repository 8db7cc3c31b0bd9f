//! `GET /accuracy`: how far to trust the forecast — the rolling-origin backtest of the LA's own model against
//! naive baselines.

use axum::extract::State;
use axum::Extension;
use maud::{html, Markup};

use crate::caller::Caller;
use crate::figures;
use crate::tables;
use crate::views::{page, table, AppError};
use crate::Shared;

pub async fn page_handler(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
) -> Result<Markup, AppError> {
    let f = figures::get(&state).await?;
    let t = tables::accuracy(&f);
    let content = html! {
        p { "Each origin: the model is fitted on the censuses up to it, forecasts up to three years ahead, and is scored against what happened. "
            "MAPE is the mean absolute percentage error of total plans; bias is the mean signed error (negative: too low); coverage is how often the interval held the actual (80% and 90% should hold about 80% and 90% of the time)." }
        @match &f.backtest {
            Ok(r) => {
                p { "Origins: " (r.origins.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")) "." }
                (table("accuracy-table", "Backtest scores: the model (trended, stationary) against last year's growth and a linear trend", &t.head, &t.rows, Some("/export/accuracy.csv")))
            }
            Err(why) => p class="note" { "No backtest: " (why) }
        }
    };
    Ok(page("Accuracy", Some(&caller), &state.la_name, content))
}
