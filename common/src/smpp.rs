//! SMPP codec (filled in by the SMPP work).
