//! The short strings a caller controls: the contacts query, a user id, and (from settings or
//! Key Vault) the ACS connection string.
#![no_main]

use handler::acs::ConnectionString;
use handler::routes::search_contacts;
use handler::routes::get_user_profile::user_path;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &str| {
    let _ = search_contacts::validate(data);
    if let Ok(path) = user_path(data) {
        let rest = path.strip_prefix("/users/").unwrap_or_default();
        assert!(!rest.contains(['/', '?', '#']), "{path}");
    }
    let _ = ConnectionString::parse(data);
});
