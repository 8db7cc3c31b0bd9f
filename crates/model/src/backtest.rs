//! backtest (to come)
