//! Parts of pages that several routes share.

pub mod chart;
pub mod forms;
pub mod layout;
