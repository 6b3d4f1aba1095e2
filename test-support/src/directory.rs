//! The seeded directory of the fakes: two organizations, as in a remote-assist session. The
//! field worker's company calls in an expert from a partner company in another tenant.

/// Fieldworks, the field worker's organization.
pub const FIELD_TENANT: &str = "f1e1d000-0000-4000-8000-00000000f1e1";
/// Experts Inc., the remote expert's organization.
pub const EXPERT_TENANT: &str = "e4e4e000-0000-4000-8000-00000000e4e4";

pub const FIELD_WORKER_OID: &str = "0b1d0000-0000-4000-8000-000000000001";
pub const SUPERVISOR_OID: &str = "0b1d0000-0000-4000-8000-000000000003";
pub const TECHNICIAN_OID: &str = "0b1d0000-0000-4000-8000-000000000004";
pub const EXPERT_OID: &str = "0b1d0000-0000-4000-8000-000000000002";
pub const SPECIALIST_OID: &str = "0b1d0000-0000-4000-8000-000000000005";
/// A B2B guest in the field worker's directory: an outside consultant invited into Fieldworks.
pub const GUEST_OID: &str = "0b1d0000-0000-4000-8000-000000000006";

/// A 64×64 JPEG (1.5 KB, `fixtures/profile-photo.jpg`) standing in for a profile photo: one a
/// browser can decode, so the sandbox's tab shows a picture, not a broken image.
pub const JPEG_PHOTO: &[u8] = include_bytes!("../fixtures/profile-photo.jpg");
/// The eight-byte PNG signature, enough for a content-type test.
pub const PNG_PHOTO: &[u8] = &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryUser {
    pub tenant_id: &'static str,
    pub id: &'static str,
    pub display_name: &'static str,
    pub mail: &'static str,
    pub user_principal_name: &'static str,
    pub job_title: &'static str,
    pub department: &'static str,
    pub office_location: &'static str,
    /// `Member` or `Guest`, as Graph's `userType`.
    pub user_type: &'static str,
    /// Content type and bytes of the photo, if the user has one.
    pub photo: Option<(&'static str, &'static [u8])>,
}

pub fn seeded_users() -> Vec<DirectoryUser> {
    vec![
        DirectoryUser {
            tenant_id: FIELD_TENANT,
            id: FIELD_WORKER_OID,
            display_name: "Avery Field",
            mail: "avery@fieldworks.example",
            user_principal_name: "avery@fieldworks.example",
            job_title: "Field Technician",
            department: "Maintenance",
            office_location: "Plant 3",
            user_type: "Member",
            photo: Some(("image/jpeg", JPEG_PHOTO)),
        },
        DirectoryUser {
            tenant_id: FIELD_TENANT,
            id: SUPERVISOR_OID,
            display_name: "Sam Supervisor",
            mail: "sam@fieldworks.example",
            user_principal_name: "sam@fieldworks.example",
            job_title: "Shift Supervisor",
            department: "Maintenance",
            office_location: "Plant 3",
            user_type: "Member",
            photo: None,
        },
        DirectoryUser {
            tenant_id: FIELD_TENANT,
            id: TECHNICIAN_OID,
            display_name: "Jordan Pump",
            mail: "jordan@fieldworks.example",
            user_principal_name: "jordan@fieldworks.example",
            job_title: "Pump Technician",
            department: "Maintenance",
            office_location: "Plant 1",
            user_type: "Member",
            photo: None,
        },
        DirectoryUser {
            tenant_id: EXPERT_TENANT,
            id: EXPERT_OID,
            display_name: "Robin Expert",
            mail: "robin@experts.example",
            user_principal_name: "robin@experts.example",
            job_title: "Senior Pump Engineer",
            department: "Remote Support",
            office_location: "Remote",
            user_type: "Member",
            photo: Some(("image/png", PNG_PHOTO)),
        },
        DirectoryUser {
            tenant_id: EXPERT_TENANT,
            id: SPECIALIST_OID,
            display_name: "Casey Pump Specialist",
            mail: "casey@experts.example",
            user_principal_name: "casey@experts.example",
            job_title: "Hydraulics Specialist",
            department: "Remote Support",
            office_location: "Remote",
            user_type: "Member",
            photo: None,
        },
        DirectoryUser {
            tenant_id: FIELD_TENANT,
            id: GUEST_OID,
            display_name: "Quinn Valve Consultant",
            mail: "quinn@valveconsult.example",
            user_principal_name: "quinn_valveconsult.example#EXT#@fieldworks.example",
            job_title: "Valve Consultant",
            department: "External",
            office_location: "",
            user_type: "Guest",
            photo: None,
        },
    ]
}
