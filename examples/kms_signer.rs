//! The merchant key held outside the process: the client signs every request, and opens what
//! WeChat Pay encrypts for the merchant, through `wechatpay::signer::{Signer, Decrypter}`. Here the
//! "KMS" is a task that alone holds the key and answers over a channel, as a remote key service
//! would over the network; against the in-process sandbox (`wechatpay-sdk-sandbox`, fresh keys),
//! so it runs anywhere:
//!
//! ```sh
//! cargo run --example kms_signer
//! ```
//!
//! For a real KMS or HSM, implement the two traits with its client (the signature it returns is
//! the raw RSASSA-PKCS1-v1_5/SHA-256 signature, or SM2-with-SM3 in DER for an SM2 key).

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};
use wechatpay::signer::{BoxFuture, Decrypter, SignatureScheme, Signer, SignerError};
use wechatpay::v3::bill::sub_merchant_fundflowbill::get::{Algorithm, Request as FundflowBill};
use wechatpay::v3::pay::transactions::out_trade_no::by_out_trade_no::get::Request as Query;
use wechatpay::{BillFile, Client, MerchantKey, PublicKey};
use wechatpay_sdk_sandbox::{Config, Sandbox, Signer as SandboxSigner, Unrecorded};

/// What the key service is asked.
enum Job {
    Sign(Vec<u8>, oneshot::Sender<Result<Vec<u8>, SignerError>>),
    Decrypt(Vec<u8>, oneshot::Sender<Result<Vec<u8>, SignerError>>),
}

/// The client's handle on the key service: the key never crosses the channel.
#[derive(Clone)]
struct Kms {
    jobs: mpsc::Sender<Job>,
    scheme: SignatureScheme,
}

impl Kms {
    /// Starts the service with `key` (a real one would load it from its own store).
    fn start(key: MerchantKey) -> Kms {
        let scheme = key.scheme();
        let (jobs, mut queue) = mpsc::channel::<Job>(64);
        tokio::spawn(async move {
            while let Some(job) = queue.recv().await {
                // The stand-in uses the crate's own implementations of the operations.
                match job {
                    Job::Sign(message, answer) => {
                        let _ = answer.send(Signer::sign(&key, &message).await);
                    }
                    Job::Decrypt(ciphertext, answer) => {
                        let _ = answer.send(Decrypter::decrypt(&key, &ciphertext).await);
                    }
                }
            }
        });
        Kms { jobs, scheme }
    }

    async fn ask(
        &self,
        job: impl FnOnce(oneshot::Sender<Result<Vec<u8>, SignerError>>) -> Job,
    ) -> Result<Vec<u8>, SignerError> {
        let (answer, answered) = oneshot::channel();
        self.jobs.send(job(answer)).await.map_err(|_| SignerError::new("the key service is down"))?;
        answered.await.map_err(|_| SignerError::new("the key service dropped the job"))?
    }
}

impl Signer for Kms {
    fn scheme(&self) -> SignatureScheme {
        self.scheme
    }

    fn sign<'a>(&'a self, message: &'a [u8]) -> BoxFuture<'a, Result<Vec<u8>, SignerError>> {
        Box::pin(self.ask(|answer| Job::Sign(message.to_vec(), answer)))
    }
}

impl Decrypter for Kms {
    fn decrypt<'a>(&'a self, ciphertext: &'a [u8]) -> BoxFuture<'a, Result<Vec<u8>, SignerError>> {
        Box::pin(self.ask(|answer| Job::Decrypt(ciphertext.to_vec(), answer)))
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Canned answers for an order and a bill the sandbox has no record of: this example is about
    // the key, not the flow.
    let sandbox = Sandbox::start(Config {
        signer: SandboxSigner::PublicKey,
        unrecorded: Unrecorded::Samples,
        ..Config::default()
    })
    .await?;
    let keys = sandbox.keys();
    let kms = Kms::start(MerchantKey::from_pem(keys.merchant_key_pem())?);

    let client = Client::builder_with_signer(keys.mchid(), keys.merchant_serial(), Arc::new(kms.clone()))
        .decrypter(Arc::new(kms))
        .wechatpay_public_key(keys.public_key_id(), PublicKey::from_pem(keys.public_key_pem())?)
        .base_url(sandbox.base_url())
        .bill_download_origins([sandbox.base_url()])
        .build()?;

    // Every request is signed by the key service.
    let order = client.send(Query::builder().out_trade_no("KMS-20240301-0001").mchid(keys.mchid()).build()?).await?;
    println!("1. order {} is {}, signed by the key service", order.out_trade_no, order.trade_state);

    // So is what the mini program needs to pay.
    let params = client.jsapi_pay_params("wxd678efh567hg6787", "wx201410272009395522657a690389285100").await?;
    println!("2. paySign {}…", &params.pay_sign[..16]);

    // An encrypted bill: its file key is opened by the key service, the file decrypted here.
    let request = FundflowBill::builder()
        .sub_mchid("1900000109")
        .bill_date("2024-03-01")
        .algorithm(Algorithm::AeadAes256Gcm)
        .account_type("BASIC")
        .build()?;
    let answer = client.send(request.clone()).await?;
    for file in BillFile::sub_merchant_fundflow(&request, &answer) {
        let bill = client.download_bill(file).await?;
        println!("3. encrypted bill: {} bytes decrypted, digest checked", bill.len());
    }
    Ok(())
}
