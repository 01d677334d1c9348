#pragma once
// What to analyse and where to keep the result; passed to the worker thread by value.
#include <QMetaType>
#include <QString>

namespace moe {
namespace gui {

struct AnalysisRequest {
  QString modelDir;
  QString calibration;   // .jsonl / .txt / .npy / FILE.h5:DATASET
  QString storePath;     // the HDF5 store (resumed when it exists and matches)
  int sequences = 32;
  int length = 256;
  bool allTokens = true; // statistic: every expert on every token (paper) or routed tokens only
  QString device = "auto";
  QString dtype = "fp32";
  int threads = 0;       // 0: all cores
};

// Progress of a running analysis (mirrors moe::AnalysisProgress without torch).
struct AnalysisProgressInfo {
  int moeDone = 0, moeTotal = 0, layer = 0, numLayers = 0;
  qint64 tokens = 0;
  double elapsedSeconds = 0, tokensPerSecond = 0, etaSeconds = 0;
  int computingLayer = -1;               // within a block: its decoder layer (-1 after a layer ends)
  qint64 expertsDone = 0, expertsTotal = 0;  // and how far its experts are
};

}  // namespace gui
}  // namespace moe

Q_DECLARE_METATYPE(moe::gui::AnalysisRequest)
Q_DECLARE_METATYPE(moe::gui::AnalysisProgressInfo)
