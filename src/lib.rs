//! The `dossier` library: every stage of turning a dossier folder into the acceptance dossier.
//! The binary (`main.rs`) only wires these stages to the command line.
//!
//! Data flows one way: [`load`] reads the YAML files, [`validate`] checks them against the
//! [`catalog`], the [`units`] registry and the [`evidence`] files and produces a checked
//! dossier; later stages only read that.

// Diagnostics are returned by value on the error path of parsing; they are not hot.
#![allow(clippy::result_large_err)]

pub mod binders;
pub mod build;
pub mod catalog;
pub mod cli;
pub mod cmd;
pub mod county;
pub mod diag;
pub mod engine;
pub mod evidence;
pub mod glyphs;
pub mod init;
pub mod load;
pub mod model;
pub mod names;
pub mod normalize;
pub mod output;
pub mod package;
pub mod par;
pub mod paths;
pub mod plan;
pub mod raster;
pub mod render;
pub mod report;
pub mod session;
pub mod typeset;
pub mod units;
pub mod validate;
pub mod yaml;
