#include "app/gui/analysis_estimate.h"

#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSettings>

namespace moe {
namespace gui {
namespace {

double number(const QJsonObject& o, std::initializer_list<const char*> keys, double fallback) {
  for (const char* k : keys)
    if (o.value(k).isDouble()) return o.value(k).toDouble();
  return fallback;
}

}  // namespace

double estimateAnalysisFlops(const AnalysisRequest& r) {
  QFile f(r.modelDir + "/config.json");
  if (!f.open(QIODevice::ReadOnly)) return 0;
  QJsonObject c = QJsonDocument::fromJson(f.readAll()).object();
  if (c.contains("text_config") && c.value("text_config").isObject()) c = c.value("text_config").toObject();
  const double h = number(c, {"hidden_size"}, 0);
  const double inter = number(c, {"moe_intermediate_size", "intermediate_size"}, 4 * h);
  const double experts = number(c, {"num_local_experts", "num_experts", "n_routed_experts"}, 1);
  const double topK = number(c, {"num_experts_per_tok", "num_experts_per_token"}, 1);
  const double layers = number(c, {"num_hidden_layers"}, 0);
  if (h <= 0 || layers <= 0) return 0;
  const double expert = 6 * h * inter;  // gate, up and down projections
  const double perToken = layers * (8 * h * h + topK * expert + (r.allTokens ? experts : topK) * expert);
  return perToken * r.sequences * static_cast<double>(r.length);
}

double measuredGflops() { return QSettings().value("analysis/gflops", 10.0).toDouble(); }

void rememberSpeed(double flops, double seconds) {
  if (flops > 0 && seconds > 0.05) QSettings().setValue("analysis/gflops", flops / seconds / 1e9);
}

}  // namespace gui
}  // namespace moe
