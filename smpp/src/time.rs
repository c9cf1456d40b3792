//! SMPP time formats (section 7.1.1): absolute and relative.
