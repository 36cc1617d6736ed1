//! The APIv2 answer judge and decoder: XML, `return_code`, `sign`, `result_code`, the typed
//! answer (`wechatpay::fuzzing::v2_answer`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wechatpay::fuzzing::v2_answer(data));
