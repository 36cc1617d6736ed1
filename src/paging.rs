//! Walking the pages of an operation paged with `offset` / `limit` (56 of them: lists of
//! coupons, complaints, stores, …).

use futures_util::stream::{self, Stream};
use wechatpay_generated::runtime::{Page, Paged};

use crate::error::Error;
use crate::reply::Reply;
use crate::Client;

impl Client {
    /// Every page of `request`, one [`Reply`] each, from its `offset` (0 when unset): the next
    /// request asks for the offset after the items received. The stream ends after a page with
    /// no item, a page shorter than the `limit` asked for, once `total_count` items were
    /// received, or when the next offset would not fit an `i64`; the first error ends it too.
    ///
    /// ```no_run
    /// # async fn run(client: wechatpay::Client) -> Result<(), wechatpay::Error> {
    /// use futures_util::StreamExt as _;
    /// use wechatpay::v3::marketing::favor::stocks::get::Request;
    /// let request = Request::builder().offset(0).limit(10).stock_creator_mchid("1900000109").build()?;
    /// let mut pages = std::pin::pin!(client.pages(request));
    /// while let Some(page) = pages.next().await {
    ///     for stock in page?.data.iter().flatten() {
    ///         println!("{:?}", stock.stock_id);
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub fn pages<O>(&self, request: O) -> impl Stream<Item = Result<Reply<O::Response>, Error>> + Send + '_
    where
        O: Paged + Send + Sync + 'static,
        O::Response: Page + Send,
    {
        stream::unfold(Some(request), move |request| async move {
            let request = request?;
            let offset = request.offset().unwrap_or(0);
            let limit = request.limit();
            let mut next = request.clone();
            match self.send(request).await {
                Err(error) => Some((Err(error), None)),
                Ok(reply) => {
                    let items = i64::try_from(reply.items()).unwrap_or(i64::MAX);
                    // An offset near `i64::MAX` (a caller's, or a service's `total_count`) has no next page.
                    let Some(received) = offset.checked_add(items) else {
                        return Some((Ok(reply), None));
                    };
                    let done = items == 0
                        || limit.is_some_and(|limit| items < limit)
                        || reply.total_count().is_some_and(|total| received >= total);
                    next.set_offset(received);
                    Some((Ok(reply), (!done).then_some(next)))
                }
            }
        })
    }
}
