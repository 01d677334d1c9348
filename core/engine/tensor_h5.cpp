#include "core/engine/tensor_h5.h"

#include "core/error.h"

namespace moe {

void writeTensor(h5::File& file, const std::string& dataset, const at::Tensor& t) {
  at::Tensor c = t.detach().to(at::kCPU).contiguous();
  h5::Shape shape(c.sizes().begin(), c.sizes().end());
  if (at::isIntegralType(c.scalar_type(), /*includeBool=*/true)) {
    c = c.to(at::kLong);
    file.write(dataset, c.data_ptr<int64_t>(), shape);
  } else {
    c = c.to(at::kFloat);
    file.write(dataset, c.data_ptr<float>(), shape);
  }
}

at::Tensor readFloatTensor(const h5::File& file, const std::string& dataset) {
  auto a = file.readFloat(dataset);
  return at::from_blob(a.data.data(), a.shape, at::kFloat).clone();
}

at::Tensor readIntTensor(const h5::File& file, const std::string& dataset) {
  auto a = file.readInt(dataset);
  return at::from_blob(a.data.data(), a.shape, at::kLong).clone();
}

at::Tensor readIdsTensor(const std::string& spec) {
  auto [path, dataset] = h5::splitFileDataset(spec);
  h5::File f(path, h5::File::Mode::Read);
  if (!f.isDataset(dataset)) throw Error(ErrorKind::InvalidArgument, path + ": no dataset '" + dataset + "'");
  at::Tensor ids = readIntTensor(f, dataset);
  if (ids.dim() == 1) ids = ids.unsqueeze(0);
  if (ids.dim() != 2 || ids.numel() == 0)
    throw Error(ErrorKind::InvalidArgument, spec + ": token ids must be a non-empty 1-D or 2-D integer dataset");
  return ids;
}

}  // namespace moe
