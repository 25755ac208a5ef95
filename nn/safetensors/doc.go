// Package safetensors reads and writes float64 tensors and string metadata
// in the safetensors file format. It knows files, not models: package nn
// maps its models to named tensors and back on top of it (nn.SaveVelocityMLP,
// nn.LoadVelocityMLP), and each package that records something in a file's
// metadata owns its keys (nn.MetaSizes, fm.MetaPath).
//
// # Layout
//
//	bytes [0, 8)        N, the header length, uint64 little-endian
//	bytes [8, 8+N)      JSON header, padded with spaces:
//	                    {"__metadata__": {"key": "value", …},
//	                     "name": {"dtype": "F64", "shape": [r, c], "data_offsets": [b, e]}, …}
//	bytes [8+N, end)    data: tensor "name" is bytes [b, e) of this section,
//	                    r·c float64 values, row-major, little-endian
//
// Write pads the header to a multiple of 8 bytes, so the data is aligned,
// and writes atomically: a crash leaves either the old file or the complete
// new one (TestWrite_Atomic).
//
// # What Read accepts
//
// What the safetensors reference reader accepts for F64 tensors of rank ≤ 2
// (rank 0 is read as [1, 1] and rank 1 as [1, n]): a header of at most
// MaxHeaderSize bytes starting with '{', no duplicate names, e − b = 8·r·c,
// and tensors that tile the data section exactly, with no gap, overlap or
// trailing byte. Anything else is an *Error naming the file and the problem;
// no input makes Read panic or allocate more than a few times the file's size
// (TestRead_Corrupt, FuzzRead).
//
// # Metadata
//
// Metadata values are strings. FormatFloat and ParseFloat write and read a
// float64 so that it round-trips exactly; a value that is missing or does not
// parse is a *MetadataError naming the key and the value.
//
// # References
//
// The format: https://github.com/huggingface/safetensors (README, "Format").
package safetensors
