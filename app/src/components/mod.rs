//! Parts of pages that several routes share.

pub mod chart;
pub mod export;
pub mod forms;
pub mod layout;
pub mod markup;
pub mod period;
