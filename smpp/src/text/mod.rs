//! Text encodings of short messages (section 5.2.19 data_coding) and segmentation.
