//! Parts of pages that several routes share.

pub mod forms;
pub mod layout;
