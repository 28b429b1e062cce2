//! The `dossier` library: every stage of turning a dossier folder into the acceptance dossier.
//! The binary (`main.rs`) only parses the command line and runs one command of [`cmd`].
//!
//! Data flows one way: [`load`] reads the YAML files, [`validate`] checks them against the
//! [`catalog`], the [`units`] registry and the [`evidence`] files and produces a checked
//! dossier; later stages only read that.
//!
//! Modules are layered; a module imports only from layers below it (no cycles, checked when
//! the layering changes):
//!
//! | layer | modules | what they own |
//! |---|---|---|
//! | 0 | [`diag`], [`model`], [`names`], [`paths`], [`catalog`], [`raster`], [`pdfscan`], [`par`], [`cli`] | diagnostics; YAML data types; 件号, labels and output names; file names and fingerprints; the embedded task table; image structure; PDF page counts and text layers from the cross-reference data; parallel map; the command line's shape |
//! | 1 | [`yaml`], [`evidence`] | YAML parsing and its messages; evidence file inspection |
//! | 2 | [`load`], [`units`] | reading a dossier folder; the units registry |
//! | 3 | [`county`], [`init`], [`output`], [`sheets`], [`digests`] | another county's table; new dossiers; writing outputs safely; the record table as a spreadsheet; evidence digests kept between packages |
//! | 4 | [`validate`], [`ocr`] | the checked dossier; text recognition of a page and its cache |
//! | 5 | [`normalize`], [`progress`], [`import`], [`textlayer`] | evidence scaled and split before typesetting; where the collection stands; a spreadsheet read back into the item files; the text layer over scans and its corrections |
//! | 6 | [`plan`], [`typeset`], [`anchors`] | what goes into a document; the Typst world; where each label is in a layout, the hint for the next |
//! | 7 | [`render`], [`glyphs`] | templates; characters no font has |
//! | 8 | [`build`], [`package`] | one document typeset; the package zip |
//! | 9 | [`places`], [`report`] | where each record is in the dossier, kept between runs; the build report |
//! | 10 | [`engine`] | the stages shared by every pipeline |
//! | 11 | [`session`], [`binders`] | the build (and watch) pipeline; the binders pipeline |
//! | 12 | [`cmd`] | the commands: the only module that prints |
//!
//! The environment (`SOURCE_DATE_EPOCH`, `NO_COLOR`, `DOSSIER_TIMINGS`) is read once, in
//! [`cmd::Env::read`], and passed down as values.

// Diagnostics are returned by value on the error path of parsing; they are not hot.
#![allow(clippy::result_large_err)]

pub mod anchors;
pub mod assemble;
pub mod binders;
pub mod build;
pub mod catalog;
pub mod cli;
pub mod cmd;
pub mod county;
pub mod diag;
pub mod digests;
pub mod engine;
pub mod evidence;
pub mod glyphs;
pub mod import;
pub mod init;
pub mod load;
pub mod model;
pub mod names;
pub mod normalize;
pub mod ocr;
pub mod output;
pub mod package;
pub mod par;
pub mod paths;
pub mod pdfscan;
pub mod places;
pub mod plan;
pub mod progress;
pub mod raster;
pub mod render;
pub mod report;
pub mod session;
pub mod sheets;
pub mod textlayer;
pub mod typeset;
pub mod units;
pub mod validate;
pub mod yaml;
