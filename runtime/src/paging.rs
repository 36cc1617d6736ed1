//! Operations paged with `offset` and `limit`: the transport walks their pages.

use crate::operation::Operation;

/// A request paged with `offset` / `limit` query parameters; its response implements [`Page`].
pub trait Paged: Operation + Clone {
    /// The offset of the first item asked for (`None`: the service's default, 0).
    fn offset(&self) -> Option<i64>;
    /// Asks for the page starting at `offset`.
    fn set_offset(&mut self, offset: i64);
    /// The page size asked for, if set.
    fn limit(&self) -> Option<i64>;
}

/// One page of a paged response.
pub trait Page {
    /// Items on this page (the length of `data`).
    fn items(&self) -> usize;
    /// Items in all pages, when the response says (`total_count`).
    fn total_count(&self) -> Option<i64>;
}
