#pragma once
// Tensors to and from the HDF5 wrapper (float32 / int64 on disk).
#include <ATen/ATen.h>

#include <string>

#include "core/io/h5file.h"

namespace moe {

void writeTensor(h5::File& file, const std::string& dataset, const at::Tensor& t);
at::Tensor readFloatTensor(const h5::File& file, const std::string& dataset);
at::Tensor readIntTensor(const h5::File& file, const std::string& dataset);
// "FILE.h5:DATASET" of integer token ids -> [B, T] int64 (a 1-D dataset becomes one sequence).
at::Tensor readIdsTensor(const std::string& spec);

}  // namespace moe
