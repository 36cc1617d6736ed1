//! `wechatpay bill download`: streamed to a file with a progress bar, digest checked.

use std::path::Path;

use indicatif::{ProgressBar, ProgressStyle};
use tokio::io::AsyncWriteExt as _;
use wechatpay::v3::bill::{fundflowbill, tradebill};

use crate::args::BillKind;
use crate::config::Settings;
use crate::failure::Failure;

pub async fn download(settings: Settings, date: &str, kind: BillKind, gzip: bool, out: &Path) -> Result<(), Failure> {
    let client = settings.client()?;
    let tar_type = gzip.then_some("GZIP");
    let bill: wechatpay::BillFile = match kind {
        BillKind::Trade => {
            let request =
                tradebill::get::Request::builder().bill_date(date).set_tar_type(tar_type.map(Into::into)).build();
            let request = request.map_err(|error| Failure::usage(error.to_string()))?;
            (&*client.send(request).await?).into()
        }
        BillKind::Fundflow => {
            let request =
                fundflowbill::get::Request::builder().bill_date(date).set_tar_type(tar_type.map(Into::into)).build();
            let request = request.map_err(|error| Failure::usage(error.to_string()))?;
            (&*client.send(request).await?).into()
        }
    };
    let partial = out.with_extension("partial");
    let mut file = tokio::fs::File::create(&partial)
        .await
        .map_err(|error| Failure::failed(format!("{}: {error}", partial.display())))?;
    // indicatif draws on stderr only when it is a terminal, so piped output stays clean.
    let progress = ProgressBar::new_spinner().with_message(format!("{date} bill"));
    progress.set_style(
        ProgressStyle::with_template("{spinner} {msg}: {bytes} ({bytes_per_sec})")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    let mut stream = client.download_bill_stream(bill).await?;
    let mut written = 0u64;
    let outcome: Result<(), Failure> = async {
        while let Some(chunk) = stream.next_chunk().await {
            let chunk = chunk?;
            file.write_all(&chunk).await.map_err(|error| Failure::failed(format!("{}: {error}", partial.display())))?;
            written += chunk.len() as u64;
            progress.set_position(written);
        }
        file.flush().await.map_err(|error| Failure::failed(format!("{}: {error}", partial.display())))
    }
    .await;
    progress.finish_and_clear();
    if let Err(failure) = outcome {
        let _ = tokio::fs::remove_file(&partial).await;
        return Err(failure);
    }
    tokio::fs::rename(&partial, out).await.map_err(|error| Failure::failed(format!("{}: {error}", out.display())))?;
    println!("{} ({written} bytes, SHA-1 digest checked)", out.display());
    Ok(())
}
