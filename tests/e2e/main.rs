//! The end-to-end tests, in one test binary (each links all of Typst: one link instead of
//! ten saves minutes of CI). A module per area; `common` has the shared helpers.
//!
//! Run one area with `cargo test --release --test e2e check::` (or any part of a test name).

mod common;

mod binder;
mod build;
mod catalog;
mod changes;
mod check;
mod hardening;
mod loader_props;
mod ocr;
mod office;
mod package;
mod print;
mod scale;
mod templates;
