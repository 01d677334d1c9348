<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="en">
<context>
    <name>moe::gui::AnalysisDialog</name>
    <message>
        <source>Analyse Model</source>
        <translation>Analyse Model</translation>
    </message>
    <message>
        <source>Browse…</source>
        <translation>Browse…</translation>
    </message>
    <message>
        <source>Model folder:</source>
        <translation>Model folder:</translation>
    </message>
    <message>
        <source>Bundled calibration text</source>
        <translation>Bundled calibration text</translation>
    </message>
    <message>
        <source>File</source>
        <translation>File</translation>
    </message>
    <message>
        <source>Calibration:</source>
        <translation>Calibration:</translation>
    </message>
    <message>
        <source>.jsonl, .txt, .npy or FILE.h5:DATASET</source>
        <translation>.jsonl, .txt, .npy or FILE.h5:DATASET</translation>
    </message>
    <message>
        <source>tokens</source>
        <translation>tokens</translation>
    </message>
    <message>
        <source>Sequences × length:</source>
        <translation>Sequences × length:</translation>
    </message>
    <message>
        <source>Every expert on every token (paper)</source>
        <translation>Every expert on every token (paper)</translation>
    </message>
    <message>
        <source>Routed tokens only (faster)</source>
        <translation>Routed tokens only (faster)</translation>
    </message>
    <message>
        <source>Statistic:</source>
        <translation>Statistic:</translation>
    </message>
    <message>
        <source>Device:</source>
        <translation>Device:</translation>
    </message>
    <message>
        <source>Precision:</source>
        <translation>Precision:</translation>
    </message>
    <message>
        <source>Estimated time:</source>
        <translation>Estimated time:</translation>
    </message>
    <message>
        <source>Analyse</source>
        <translation>Analyse</translation>
    </message>
    <message>
        <source>Model Folder</source>
        <translation>Model Folder</translation>
    </message>
    <message>
        <source>Calibration Text</source>
        <translation>Calibration Text</translation>
    </message>
    <message>
        <source>Text or token ids (*.jsonl *.json *.txt *.npy *.h5);;All files (*)</source>
        <translation>Text or token ids (*.jsonl *.json *.txt *.npy *.h5);;All files (*)</translation>
    </message>
    <message>
        <source>unknown (no readable config.json in the model folder)</source>
        <translation>unknown (no readable config.json in the model folder)</translation>
    </message>
    <message>
        <source>about %1 (%2 TFLOP at %3 GFLOP/s, the speed measured on this machine)</source>
        <translation>about %1 (%2 TFLOP at %3 GFLOP/s, the speed measured on this machine)</translation>
    </message>
</context>
<context>
    <name>moe::gui::AnalysisRunner</name>
    <message>
        <source>The model changed since the cached analysis (%1); analysing again…</source>
        <translation>The model changed since the cached analysis (%1); analysing again…</translation>
    </message>
    <message>
        <source>Model not available (%1); opening the statistics only</source>
        <translation>Model not available (%1); opening the statistics only</translation>
    </message>
</context>
<context>
    <name>moe::gui::AnalysisWorker</name>
    <message>
        <source>Opening the model…</source>
        <translation>Opening the model…</translation>
    </message>
    <message>
        <source>Reading the calibration text…</source>
        <translation>Reading the calibration text…</translation>
    </message>
    <message>
        <source>Analysing %1 MoE blocks…</source>
        <translation>Analysing %1 MoE blocks…</translation>
    </message>
    <message>
        <source>Reading the analysis…</source>
        <translation>Reading the analysis…</translation>
    </message>
</context>
<context>
    <name>moe::gui::ExplorerDocument</name>
    <message>
        <source>single</source>
        <translation>single</translation>
    </message>
    <message>
        <source>complete</source>
        <translation>complete</translation>
    </message>
    <message>
        <source>average</source>
        <translation>average</translation>
    </message>
    <message>
        <source>Ward</source>
        <translation>Ward</translation>
    </message>
    <message>
        <source>Set the expert budget to %1 per layer</source>
        <translation>Set the expert budget to %1 per layer</translation>
    </message>
    <message>
        <source>Set K = %1 for every layer</source>
        <translation>Set K = %1 for every layer</translation>
    </message>
    <message>
        <source>Set K = %1 for layer %2</source>
        <translation>Set K = %1 for layer %2</translation>
    </message>
    <message>
        <source>Reset K of layer %1</source>
        <translation>Reset K of layer %1</translation>
    </message>
    <message>
        <source>Reset per-layer K</source>
        <translation>Reset per-layer K</translation>
    </message>
    <message>
        <source>Use %1 linkage</source>
        <translation>Use %1 linkage</translation>
    </message>
    <message>
        <source>Compare experts by %1</source>
        <translation>Compare experts by %1</translation>
    </message>
    <message>
        <source>Use %1 distance</source>
        <translation>Use %1 distance</translation>
    </message>
    <message>
        <source>uniform</source>
        <translation>uniform</translation>
    </message>
    <message>
        <source>global frequency</source>
        <translation>global frequency</translation>
    </message>
    <message>
        <source>distance threshold</source>
        <translation>distance threshold</translation>
    </message>
    <message>
        <source>Allocate clusters by %1</source>
        <translation>Allocate clusters by %1</translation>
    </message>
    <message>
        <source>Cut every tree at height %1</source>
        <translation>Cut every tree at height %1</translation>
    </message>
    <message>
        <source>Use the %1 strategy</source>
        <translation>Use the %1 strategy</translation>
    </message>
    <message>
        <source>Load plan %1</source>
        <translation>Load plan %1</translation>
    </message>
    <message>
        <source>Align neurons before averaging</source>
        <translation>Align neurons before averaging</translation>
    </message>
    <message>
        <source>Average without neuron alignment</source>
        <translation>Average without neuron alignment</translation>
    </message>
</context>
<context>
    <name>moe::gui::ExplorerView</name>
    <message>
        <source> · clustering the other layers…</source>
        <translation> · clustering the other layers…</translation>
    </message>
    <message>
        <source>Layers</source>
        <translation>Layers</translation>
    </message>
    <message>
        <source>Plan</source>
        <translation>Plan</translation>
    </message>
    <message>
        <source>Dendrogram</source>
        <translation>Dendrogram</translation>
    </message>
    <message>
        <source>Expert distances</source>
        <translation>Expert distances</translation>
    </message>
    <message>
        <source>Usage and REAP</source>
        <translation>Usage and REAP</translation>
    </message>
    <message>
        <source>Trade-off</source>
        <translation>Trade-off</translation>
    </message>
    <message>
        <source>K</source>
        <translation>K</translation>
    </message>
    <message>
        <source>Clusters kept in this layer (drag the red cut line to change it)</source>
        <translation>Clusters kept in this layer (drag the red cut line to change it)</translation>
    </message>
    <message>
        <source>Reset</source>
        <translation>Reset</translation>
    </message>
    <message>
        <source>Use the global allocation for this layer again</source>
        <translation>Use the global allocation for this layer again</translation>
    </message>
    <message>
        <source>Dendrogram order</source>
        <translation>Dendrogram order</translation>
    </message>
    <message>
        <source>Expert order</source>
        <translation>Expert order</translation>
    </message>
    <message>
        <source>Order of the rows and columns</source>
        <translation>Order of the rows and columns</translation>
    </message>
    <message>
        <source>cosine distance</source>
        <translation>cosine distance</translation>
    </message>
    <message>
        <source>Euclidean distance</source>
        <translation>Euclidean distance</translation>
    </message>
    <message>
        <source>layer %1 · %2 experts · top-%3</source>
        <translation>layer %1 · %2 experts · top-%3</translation>
    </message>
    <message>
        <source>layer %1</source>
        <translation>layer %1</translation>
    </message>
    <message>
        <source>layer %1 · %2 calibration tokens</source>
        <translation>layer %1 · %2 calibration tokens</translation>
    </message>
    <message>
        <source>model size (MB)</source>
        <translation>model size (MB)</translation>
    </message>
    <message>
        <source>experts kept (%)</source>
        <translation>experts kept (%)</translation>
    </message>
    <message>
        <source>uniform K from %1 to 1, mean over layers</source>
        <translation>uniform K from %1 to 1, mean over layers</translation>
    </message>
    <message>
        <source>Relative L2 error of the merged block on %1 calibration tokens:
tied (router kept) %2 · compact (averaged router) %3</source>
        <translation>Relative L2 error of the merged block on %1 calibration tokens:
tied (router kept) %2 · compact (averaged router) %3</translation>
    </message>
    <message>
        <source>Estimate from the experts&apos; mean outputs; the exact error is not computed yet</source>
        <translation>Estimate from the experts&apos; mean outputs; the exact error is not computed yet</translation>
    </message>
    <message>
        <source>relative output error (tied)</source>
        <translation>relative output error (tied)</translation>
    </message>
    <message>
        <source>output error (estimate)</source>
        <translation>output error (estimate)</translation>
    </message>
    <message>
        <source>uniform K from %1 to 1, mean over layers · estimate until the exact errors are computed</source>
        <translation>uniform K from %1 to 1, mean over layers · estimate until the exact errors are computed</translation>
    </message>
    <message>
        <source>Measure perplexity / KL</source>
        <translation>Measure perplexity / KL</translation>
    </message>
    <message>
        <source>Perplexity and KL(original || merged) of the current plan on held-out text, tied and compact (text and size in Settings)</source>
        <translation>Perplexity and KL(original || merged) of the current plan on held-out text, tied and compact (text and size in Settings)</translation>
    </message>
    <message>
        <source>measurement cancelled</source>
        <translation>measurement cancelled</translation>
    </message>
    <message>
        <source>measurement failed</source>
        <translation>measurement failed</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>Cancel</translation>
    </message>
    <message>
        <source>measuring on %1 × %2 tokens…</source>
        <translation>measuring on %1 × %2 tokens…</translation>
    </message>
    <message>
        <source>perplexity %1 → %2 tied · %3 compact</source>
        <translation>perplexity %1 → %2 tied · %3 compact</translation>
    </message>
    <message>
        <source>
(measured for an earlier plan)</source>
        <translation>
(measured for an earlier plan)</translation>
    </message>
    <message>
        <source>Distance</source>
        <translation>Distance</translation>
    </message>
    <message>
        <source>Cosine similarity</source>
        <translation>Cosine similarity</translation>
    </message>
    <message>
        <source>Show the distances the clustering uses, or the cosine similarity of the same representation (view only: the plan does not change)</source>
        <translation>Show the distances the clustering uses, or the cosine similarity of the same representation (view only: the plan does not change)</translation>
    </message>
    <message>
        <source>cosine similarity</source>
        <translation>cosine similarity</translation>
    </message>
    <message>
        <source>Expert similarities</source>
        <translation>Expert similarities</translation>
    </message>
    <message>
        <source>All layers</source>
        <translation>All layers</translation>
    </message>
    <message>
        <source>Find expert</source>
        <translation>Find expert</translation>
    </message>
    <message>
        <source>Type an expert id and press Enter: its cluster unfolds and the view zooms to it</source>
        <translation>Type an expert id and press Enter: its cluster unfolds and the view zooms to it</translation>
    </message>
    <message>
        <source>On %1 predicted tokens of held-out text (%2 s):
original perplexity %3
tied: perplexity %4, KL(original || merged) %5, top-1 agreement %9 %
compact: perplexity %6, KL(original || merged) %7, top-1 agreement %10 %%8</source>
        <translation>On %1 predicted tokens of held-out text (%2 s):
original perplexity %3
tied: perplexity %4, KL(original || merged) %5, top-1 agreement %9 %
compact: perplexity %6, KL(original || merged) %7, top-1 agreement %10 %%8</translation>
    </message>
    <message>
        <source>ppl %1 tied · %2 compact
KL %3 · %4
top-1 %5 % · %6 %</source>
        <translation>ppl %1 tied · %2 compact
KL %3 · %4
top-1 %5 % · %6 %</translation>
    </message>
    <message>
        <source>output error</source>
        <translation>output error</translation>
    </message>
    <message>
        <source>top-1 agreement</source>
        <translation>top-1 agreement</translation>
    </message>
    <message>
        <source>generation agreement (ROUGE-L)</source>
        <translation>generation agreement (ROUGE-L)</translation>
    </message>
    <message>
        <source>identical prefix</source>
        <translation>identical prefix</translation>
    </message>
    <message>
        <source>The y axis: the uniform plans&apos; output error, or an agreement with the original measured for plans (Measure perplexity / KL)</source>
        <translation>The y axis: the uniform plans&apos; output error, or an agreement with the original measured for plans (Measure perplexity / KL)</translation>
    </message>
    <message>
        <source>
free-running agreement over %1 held-out prefixes: identical prefix %2 tied · %3 compact tokens, ROUGE-L %4 · %5</source>
        <translation>
free-running agreement over %1 held-out prefixes: identical prefix %2 tied · %3 compact tokens, ROUGE-L %4 · %5</translation>
    </message>
    <message>
        <source>top-1 agreement (%, teacher-forced)</source>
        <translation>top-1 agreement (%, teacher-forced)</translation>
    </message>
    <message>
        <source>identical prefix (tokens)</source>
        <translation>identical prefix (tokens)</translation>
    </message>
    <message>
        <source>Measure a plan (Measure perplexity / KL) to see its top-1 agreement</source>
        <translation>Measure a plan (Measure perplexity / KL) to see its top-1 agreement</translation>
    </message>
    <message>
        <source>Measure a plan with generation prompts on (Settings) to see generation agreement</source>
        <translation>Measure a plan with generation prompts on (Settings) to see generation agreement</translation>
    </message>
    <message>
        <source>measured plans (tied and compact): %1</source>
        <translation>measured plans (tied and compact): %1</translation>
    </message>
</context>
<context>
    <name>moe::gui::ExportDialog</name>
    <message>
        <source>Export Merged Model</source>
        <translation>Export Merged Model</translation>
    </message>
    <message>
        <source>Compact: K experts per layer, loads in stock transformers</source>
        <translation>Compact: K experts per layer, loads in stock transformers</translation>
    </message>
    <message>
        <source>Expert map: original router, K per layer (the paper&apos;s tied model)</source>
        <translation>Expert map: original router, K per layer (the paper&apos;s tied model)</translation>
    </message>
    <message>
        <source>Format:</source>
        <translation>Format:</translation>
    </message>
    <message>
        <source>Average of the member rows</source>
        <translation>Average of the member rows</translation>
    </message>
    <message>
        <source>Usage-weighted average of the member rows</source>
        <translation>Usage-weighted average of the member rows</translation>
    </message>
    <message>
        <source>Compact router:</source>
        <translation>Compact router:</translation>
    </message>
    <message>
        <source>Browse…</source>
        <translation>Browse…</translation>
    </message>
    <message>
        <source>Output folder:</source>
        <translation>Output folder:</translation>
    </message>
    <message>
        <source> MB</source>
        <translation> MB</translation>
    </message>
    <message>
        <source>Shard size:</source>
        <translation>Shard size:</translation>
    </message>
    <message>
        <source>Result:</source>
        <translation>Result:</translation>
    </message>
    <message>
        <source>Export</source>
        <translation>Export</translation>
    </message>
    <message>
        <source>Output Folder</source>
        <translation>Output Folder</translation>
    </message>
    <message>
        <source>K per layer: %1</source>
        <translation>K per layer: %1</translation>
    </message>
    <message>
        <source>About %1 (from %2)</source>
        <translation>About %1 (from %2)</translation>
    </message>
    <message>
        <source>Cannot export this plan</source>
        <translation>Cannot export this plan</translation>
    </message>
    <message>
        <source>Fitted: logsumexp of member logits (lse-fit)</source>
        <translation>Fitted: logsumexp of member logits (lse-fit)</translation>
    </message>
    <message>
        <source>Fitted: soft routing targets (soft-fit)</source>
        <translation>Fitted: soft routing targets (soft-fit)</translation>
    </message>
    <message>
        <source>Fitted: imitate the tied model, layer by layer (tied-fit)</source>
        <translation>Fitted: imitate the tied model, layer by layer (tied-fit)</translation>
    </message>
    <message>
        <source>How the compact model&apos;s router row of each group is built. Fitted routers are trained on the analysis&apos; calibration tokens (slower export, usually closer to the original).</source>
        <translation>How the compact model&apos;s router row of each group is built. Fitted routers are trained on the analysis&apos; calibration tokens (slower export, usually closer to the original).</translation>
    </message>
    <message>
        <source>As the source (FP8 / MXFP4 stay quantized)</source>
        <translation>As the source (FP8 / MXFP4 stay quantized)</translation>
    </message>
    <message>
        <source>BF16</source>
        <translation>BF16</translation>
    </message>
    <message>
        <source>A quantized source keeps its encoding: unmerged experts are copied byte for byte and merged ones re-quantized with the same scheme. BF16 dequantizes everything, for runtimes without FP8 / MXFP4 kernels (about twice the size of FP8).</source>
        <translation>A quantized source keeps its encoding: unmerged experts are copied byte for byte and merged ones re-quantized with the same scheme. BF16 dequantizes everything, for runtimes without FP8 / MXFP4 kernels (about twice the size of FP8).</translation>
    </message>
    <message>
        <source>Precision:</source>
        <translation>Precision:</translation>
    </message>
</context>
<context>
    <name>moe::gui::JobGate</name>
    <message>
        <source>Busy: %1. Wait for it to finish or cancel it first.</source>
        <translation>Busy: %1. Wait for it to finish or cancel it first.</translation>
    </message>
</context>
<context>
    <name>moe::gui::LayerErrorStatus</name>
    <message>
        <source>exact errors</source>
        <translation>exact errors</translation>
    </message>
    <message>
        <source>Relative L2 error of each merged block&apos;s output against the original block on %1 calibration tokens</source>
        <translation>Relative L2 error of each merged block&apos;s output against the original block on %1 calibration tokens</translation>
    </message>
    <message>
        <source>preparing exact errors…</source>
        <translation>preparing exact errors…</translation>
    </message>
    <message>
        <source>Running the calibration tokens through the model once; the errors shown are estimates until then</source>
        <translation>Running the calibration tokens through the model once; the errors shown are estimates until then</translation>
    </message>
    <message numerus="yes">
        <source>exact errors: %n left</source>
        <translation>
            <numerusform>exact errors: %n left</numerusform>
            <numerusform>exact errors: %n left</numerusform>
        </translation>
    </message>
    <message>
        <source>Scoring the plan&apos;s blocks first, then the trade-off curve</source>
        <translation>Scoring the plan&apos;s blocks first, then the trade-off curve</translation>
    </message>
    <message>
        <source>estimates (exact errors stopped)</source>
        <translation>estimates (exact errors stopped)</translation>
    </message>
    <message>
        <source>estimates (exact errors unavailable)</source>
        <translation>estimates (exact errors unavailable)</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>Cancel</translation>
    </message>
    <message>
        <source>Compute</source>
        <translation>Compute</translation>
    </message>
    <message>
        <source>Stop computing exact errors; the estimates stay</source>
        <translation>Stop computing exact errors; the estimates stay</translation>
    </message>
    <message>
        <source>Compute the exact errors</source>
        <translation>Compute the exact errors</translation>
    </message>
    <message>
        <source> · %1 %</source>
        <translation> · %1 %</translation>
    </message>
    <message>
        <source> · about %1 left</source>
        <translation> · about %1 left</translation>
    </message>
</context>
<context>
    <name>moe::gui::MainWindow</name>
    <message>
        <source>History</source>
        <translation>History</translation>
    </message>
    <message>
        <source>&lt;analysis opened&gt;</source>
        <translation>&lt;analysis opened&gt;</translation>
    </message>
    <message>
        <source>Ready</source>
        <translation>Ready</translation>
    </message>
    <message>
        <source>Exported %1</source>
        <translation>Exported %1</translation>
    </message>
    <message>
        <source>Export finished</source>
        <translation>Export finished</translation>
    </message>
    <message>
        <source>Wrote %1 tensors (%2) in %3 files to
%4</source>
        <translation>Wrote %1 tensors (%2) in %3 files to
%4</translation>
    </message>
    <message>
        <source>Open Folder</source>
        <translation>Open Folder</translation>
    </message>
    <message>
        <source>Export cancelled; nothing was written.</source>
        <translation>Export cancelled; nothing was written.</translation>
    </message>
    <message>
        <source>Export failed</source>
        <translation>Export failed</translation>
    </message>
    <message>
        <source>Analysis cancelled. Finished layers are kept; the next run resumes from them.</source>
        <translation>Analysis cancelled. Finished layers are kept; the next run resumes from them.</translation>
    </message>
    <message>
        <source>Analysis failed</source>
        <translation>Analysis failed</translation>
    </message>
    <message>
        <source>Edit not applied: %1</source>
        <translation>Edit not applied: %1</translation>
    </message>
    <message>
        <source>%1 · %2 → %3</source>
        <translation>%1 · %2 → %3</translation>
    </message>
    <message>
        <source>Open &amp;Demo</source>
        <translation>Open &amp;Demo</translation>
    </message>
    <message>
        <source>&amp;Open Model…</source>
        <translation>&amp;Open Model…</translation>
    </message>
    <message>
        <source>Open &amp;Analysis…</source>
        <translation>Open &amp;Analysis…</translation>
    </message>
    <message>
        <source>Ctrl+Shift+O</source>
        <translation>Ctrl+Shift+O</translation>
    </message>
    <message>
        <source>&amp;Analyse Again…</source>
        <translation>&amp;Analyse Again…</translation>
    </message>
    <message>
        <source>Ctrl+R</source>
        <translation>Ctrl+R</translation>
    </message>
    <message>
        <source>&amp;Save Plan…</source>
        <translation>&amp;Save Plan…</translation>
    </message>
    <message>
        <source>&amp;Load Plan…</source>
        <translation>&amp;Load Plan…</translation>
    </message>
    <message>
        <source>Ctrl+L</source>
        <translation>Ctrl+L</translation>
    </message>
    <message>
        <source>&amp;Export Merged Model…</source>
        <translation>&amp;Export Merged Model…</translation>
    </message>
    <message>
        <source>Ctrl+E</source>
        <translation>Ctrl+E</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>&amp;File</translation>
    </message>
    <message>
        <source>Open &amp;Recent</source>
        <translation>Open &amp;Recent</translation>
    </message>
    <message>
        <source>Export &amp;Figure</source>
        <translation>Export &amp;Figure</translation>
    </message>
    <message>
        <source>Dendrogram…</source>
        <translation>Dendrogram…</translation>
    </message>
    <message>
        <source>Distance Heatmap…</source>
        <translation>Distance Heatmap…</translation>
    </message>
    <message>
        <source>Usage Chart…</source>
        <translation>Usage Chart…</translation>
    </message>
    <message>
        <source>Trade-off Plot…</source>
        <translation>Trade-off Plot…</translation>
    </message>
    <message>
        <source>Export &amp;Data</source>
        <translation>Export &amp;Data</translation>
    </message>
    <message>
        <source>Distances (CSV)…</source>
        <translation>Distances (CSV)…</translation>
    </message>
    <message>
        <source>Groups of Every Layer (JSON)…</source>
        <translation>Groups of Every Layer (JSON)…</translation>
    </message>
    <message>
        <source>Dendrogram (Newick)…</source>
        <translation>Dendrogram (Newick)…</translation>
    </message>
    <message>
        <source>Se&amp;ttings…</source>
        <translation>Se&amp;ttings…</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>&amp;Quit</translation>
    </message>
    <message>
        <source>&amp;Edit</source>
        <translation>&amp;Edit</translation>
    </message>
    <message>
        <source>&amp;Undo</source>
        <translation>&amp;Undo</translation>
    </message>
    <message>
        <source>&amp;Redo</source>
        <translation>&amp;Redo</translation>
    </message>
    <message>
        <source>Ctrl+Shift+Z</source>
        <translation>Ctrl+Shift+Z</translation>
    </message>
    <message>
        <source>More Clusters</source>
        <translation>More Clusters</translation>
    </message>
    <message>
        <source>Ctrl+Up</source>
        <translation>Ctrl+Up</translation>
    </message>
    <message>
        <source>Fewer Clusters</source>
        <translation>Fewer Clusters</translation>
    </message>
    <message>
        <source>Ctrl+Down</source>
        <translation>Ctrl+Down</translation>
    </message>
    <message>
        <source>Reset Per-Layer K</source>
        <translation>Reset Per-Layer K</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>&amp;View</translation>
    </message>
    <message>
        <source>Next Layer</source>
        <translation>Next Layer</translation>
    </message>
    <message>
        <source>Alt+Down</source>
        <translation>Alt+Down</translation>
    </message>
    <message>
        <source>Previous Layer</source>
        <translation>Previous Layer</translation>
    </message>
    <message>
        <source>Alt+Up</source>
        <translation>Alt+Up</translation>
    </message>
    <message>
        <source>Welcome Page</source>
        <translation>Welcome Page</translation>
    </message>
    <message>
        <source>Explorer</source>
        <translation>Explorer</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>&amp;Help</translation>
    </message>
    <message>
        <source>&amp;About MoEScope</source>
        <translation>&amp;About MoEScope</translation>
    </message>
    <message>
        <source>About MoEScope</source>
        <translation>About MoEScope</translation>
    </message>
    <message>
        <source>&lt;h3&gt;MoEScope %1&lt;/h3&gt;&lt;p&gt;Inspect expert redundancy in Mixture-of-Experts models and merge experts with HC-SMoE (hierarchical clustering of expert outputs, Chen et al., ICML 2025).&lt;/p&gt;</source>
        <translation>&lt;h3&gt;MoEScope %1&lt;/h3&gt;&lt;p&gt;Inspect expert redundancy in Mixture-of-Experts models and merge experts with HC-SMoE (hierarchical clustering of expert outputs, Chen et al., ICML 2025).&lt;/p&gt;</translation>
    </message>
    <message>
        <source>(none)</source>
        <translation>(none)</translation>
    </message>
    <message>
        <source>Clear</source>
        <translation>Clear</translation>
    </message>
    <message>
        <source>Demo not found</source>
        <translation>Demo not found</translation>
    </message>
    <message>
        <source>The bundled demo model (resources/demo) was not found next to the executable. Set MOESCOPE_DEMO_DIR to its folder.</source>
        <translation>The bundled demo model (resources/demo) was not found next to the executable. Set MOESCOPE_DEMO_DIR to its folder.</translation>
    </message>
    <message>
        <source>Analysing %1</source>
        <translation>Analysing %1</translation>
    </message>
    <message>
        <source>Opening %1</source>
        <translation>Opening %1</translation>
    </message>
    <message>
        <source>%1 — MoEScope</source>
        <translation>%1 — MoEScope</translation>
    </message>
    <message>
        <source>%1 MoE layers · %2 experts · top-%3 · %4 × %5 calibration tokens · %6</source>
        <translation>%1 MoE layers · %2 experts · top-%3 · %4 × %5 calibration tokens · %6</translation>
    </message>
    <message>
        <source>Open Model Folder</source>
        <translation>Open Model Folder</translation>
    </message>
    <message>
        <source>Open Analysis</source>
        <translation>Open Analysis</translation>
    </message>
    <message>
        <source>MoEScope analyses (*.h5);;All files (*)</source>
        <translation>MoEScope analyses (*.h5);;All files (*)</translation>
    </message>
    <message>
        <source>Save Plan</source>
        <translation>Save Plan</translation>
    </message>
    <message>
        <source>Merge plans (*.json)</source>
        <translation>Merge plans (*.json)</translation>
    </message>
    <message>
        <source>Saved %1</source>
        <translation>Saved %1</translation>
    </message>
    <message>
        <source>Load Plan</source>
        <translation>Load Plan</translation>
    </message>
    <message>
        <source>Export Figure</source>
        <translation>Export Figure</translation>
    </message>
    <message>
        <source>PNG image (*.png);;SVG drawing (*.svg);;PDF document (*.pdf)</source>
        <translation>PNG image (*.png);;SVG drawing (*.svg);;PDF document (*.pdf)</translation>
    </message>
    <message>
        <source>CSV (*.csv)</source>
        <translation>CSV (*.csv)</translation>
    </message>
    <message>
        <source>JSON (*.json)</source>
        <translation>JSON (*.json)</translation>
    </message>
    <message>
        <source>Newick (*.nwk *.newick)</source>
        <translation>Newick (*.nwk *.newick)</translation>
    </message>
    <message>
        <source>Export Data</source>
        <translation>Export Data</translation>
    </message>
    <message>
        <source>Exporting to %1</source>
        <translation>Exporting to %1</translation>
    </message>
    <message>
        <source>Fitting the compact routers: block %1 of %2</source>
        <translation>Fitting the compact routers: block %1 of %2</translation>
    </message>
    <message>
        <source>&amp;Undo %1</source>
        <translation>&amp;Undo %1</translation>
    </message>
    <message>
        <source>&amp;Redo %1</source>
        <translation>&amp;Redo %1</translation>
    </message>
    <message>
        <source>Cannot open %1</source>
        <translation>Cannot open %1</translation>
    </message>
    <message>
        <source>Cannot show the analysis %1</source>
        <translation>Cannot show the analysis %1</translation>
    </message>
    <message>
        <source>Cannot apply the settings</source>
        <translation>Cannot apply the settings</translation>
    </message>
    <message>
        <source>Cannot load the plan %1</source>
        <translation>Cannot load the plan %1</translation>
    </message>
    <message>
        <source>Cannot start the analysis of %1</source>
        <translation>Cannot start the analysis of %1</translation>
    </message>
    <message>
        <source>%1

Its statistics and errors would describe another model, so it was not opened.</source>
        <translation>%1

Its statistics and errors would describe another model, so it was not opened.</translation>
    </message>
    <message>
        <source>Stale analysis</source>
        <translation>Stale analysis</translation>
    </message>
    <message>
        <source>Analyse Again…</source>
        <translation>Analyse Again…</translation>
    </message>
    <message>
        <source>Cannot save the plan %1</source>
        <translation>Cannot save the plan %1</translation>
    </message>
    <message>
        <source>Cannot export the figure %1</source>
        <translation>Cannot export the figure %1</translation>
    </message>
    <message>
        <source>Cannot export the data %1</source>
        <translation>Cannot export the data %1</translation>
    </message>
    <message>
        <source>Cannot export the merged model</source>
        <translation>Cannot export the merged model</translation>
    </message>
    <message>
        <source>analysing %1</source>
        <translation>analysing %1</translation>
    </message>
    <message>
        <source>opening %1</source>
        <translation>opening %1</translation>
    </message>
    <message>
        <source>exporting to %1</source>
        <translation>exporting to %1</translation>
    </message>
    <message>
        <source>Ctrl+T</source>
        <translation>Ctrl+T</translation>
    </message>
    <message>
        <source>Try It</source>
        <translation>Try It</translation>
    </message>
    <message>
        <source>Try It (Generate Text)</source>
        <translation>Try It (Generate Text)</translation>
    </message>
    <message>
        <source>Cannot show the analysis</source>
        <translation>Cannot show the analysis</translation>
    </message>
</context>
<context>
    <name>moe::gui::PlanBar</name>
    <message>
        <source>Plan</source>
        <translation>Plan</translation>
    </message>
    <message>
        <source>Uniform</source>
        <translation>Uniform</translation>
    </message>
    <message>
        <source>Global frequency</source>
        <translation>Global frequency</translation>
    </message>
    <message>
        <source>Distance threshold</source>
        <translation>Distance threshold</translation>
    </message>
    <message>
        <source>How many clusters each layer keeps: the same K everywhere, HC-SMoE&apos;s global usage-frequency rule, or one cut height for every tree</source>
        <translation>How many clusters each layer keeps: the same K everywhere, HC-SMoE&apos;s global usage-frequency rule, or one cut height for every tree</translation>
    </message>
    <message>
        <source>Allocation</source>
        <translation>Allocation</translation>
    </message>
    <message>
        <source>K</source>
        <translation>K</translation>
    </message>
    <message>
        <source>Clusters kept per layer (Ctrl+Up / Ctrl+Down)</source>
        <translation>Clusters kept per layer (Ctrl+Up / Ctrl+Down)</translation>
    </message>
    <message>
        <source>Every layer&apos;s tree is cut at this merge height</source>
        <translation>Every layer&apos;s tree is cut at this merge height</translation>
    </message>
    <message>
        <source>Average</source>
        <translation>Average</translation>
    </message>
    <message>
        <source>Single</source>
        <translation>Single</translation>
    </message>
    <message>
        <source>Complete</source>
        <translation>Complete</translation>
    </message>
    <message>
        <source>Ward</source>
        <translation>Ward</translation>
    </message>
    <message>
        <source>Linkage of the hierarchical clustering (average is the paper&apos;s choice)</source>
        <translation>Linkage of the hierarchical clustering (average is the paper&apos;s choice)</translation>
    </message>
    <message>
        <source>Linkage</source>
        <translation>Linkage</translation>
    </message>
    <message>
        <source>Expert output</source>
        <translation>Expert output</translation>
    </message>
    <message>
        <source>Expert output (routed)</source>
        <translation>Expert output (routed)</translation>
    </message>
    <message>
        <source>Router logits</source>
        <translation>Router logits</translation>
    </message>
    <message>
        <source>Weights</source>
        <translation>Weights</translation>
    </message>
    <message>
        <source>What an expert is represented by when experts are compared</source>
        <translation>What an expert is represented by when experts are compared</translation>
    </message>
    <message>
        <source>Compare</source>
        <translation>Compare</translation>
    </message>
    <message>
        <source>Euclidean</source>
        <translation>Euclidean</translation>
    </message>
    <message>
        <source>Cosine</source>
        <translation>Cosine</translation>
    </message>
    <message>
        <source>Distance</source>
        <translation>Distance</translation>
    </message>
    <message>
        <source>Merge: frequency-weighted</source>
        <translation>Merge: frequency-weighted</translation>
    </message>
    <message>
        <source>Merge: average</source>
        <translation>Merge: average</translation>
    </message>
    <message>
        <source>Merge: dominant expert</source>
        <translation>Merge: dominant expert</translation>
    </message>
    <message>
        <source>Prune: F-prune</source>
        <translation>Prune: F-prune</translation>
    </message>
    <message>
        <source>Prune: REAP</source>
        <translation>Prune: REAP</translation>
    </message>
    <message>
        <source>Strategy</source>
        <translation>Strategy</translation>
    </message>
    <message>
        <source>Height</source>
        <translation>Height</translation>
    </message>
    <message>
        <source>Mean K</source>
        <translation>Mean K</translation>
    </message>
    <message>
        <source>Merge: REAM</source>
        <translation>Merge: REAM</translation>
    </message>
    <message>
        <source>Keep</source>
        <translation>Keep</translation>
    </message>
    <message>
        <source>How each group becomes one expert (REAM: the K highest-REAP experts are the centroids, every other expert joins its nearest centroid)</source>
        <translation>How each group becomes one expert (REAM: the K highest-REAP experts are the centroids, every other expert joins its nearest centroid)</translation>
    </message>
    <message>
        <source>Align neurons</source>
        <translation>Align neurons</translation>
    </message>
    <message>
        <source>Permute each member&apos;s neurons onto its group&apos;s reference expert before averaging (calibration activations, one forward pass before a merge); for averaging strategies</source>
        <translation>Permute each member&apos;s neurons onto its group&apos;s reference expert before averaging (calibration activations, one forward pass before a merge); for averaging strategies</translation>
    </message>
</context>
<context>
    <name>moe::gui::PlanSummary</name>
    <message>
        <source>Experts kept</source>
        <translation>Experts kept</translation>
    </message>
    <message>
        <source>%1 of %2 (%3 %)</source>
        <translation>%1 of %2 (%3 %)</translation>
    </message>
    <message>
        <source>Model size</source>
        <translation>Model size</translation>
    </message>
    <message>
        <source>%1 → %2 (−%3 %)</source>
        <translation>%1 → %2 (−%3 %)</translation>
    </message>
    <message>
        <source>Export format</source>
        <translation>Export format</translation>
    </message>
    <message>
        <source>compact (K = %1 everywhere)</source>
        <translation>compact (K = %1 everywhere)</translation>
    </message>
    <message>
        <source>expert map (K per layer)</source>
        <translation>expert map (K per layer)</translation>
    </message>
    <message>
        <source>Clustering</source>
        <translation>Clustering</translation>
    </message>
    <message>
        <source>Single</source>
        <translation>Single</translation>
    </message>
    <message>
        <source>Complete</source>
        <translation>Complete</translation>
    </message>
    <message>
        <source>Average</source>
        <translation>Average</translation>
    </message>
    <message>
        <source>Ward</source>
        <translation>Ward</translation>
    </message>
    <message>
        <source>Expert output</source>
        <translation>Expert output</translation>
    </message>
    <message>
        <source>Expert output (routed)</source>
        <translation>Expert output (routed)</translation>
    </message>
    <message>
        <source>Router logits</source>
        <translation>Router logits</translation>
    </message>
    <message>
        <source>Weights</source>
        <translation>Weights</translation>
    </message>
    <message>
        <source>%1 linkage · %2 · %3</source>
        <translation>%1 linkage · %2 · %3</translation>
    </message>
    <message>
        <source>Cosine</source>
        <translation>Cosine</translation>
    </message>
    <message>
        <source>Euclidean</source>
        <translation>Euclidean</translation>
    </message>
    <message>
        <source>Output error (mean, tied)</source>
        <translation>Output error (mean, tied)</translation>
    </message>
    <message>
        <source>Output error (estimate)</source>
        <translation>Output error (estimate)</translation>
    </message>
</context>
<context>
    <name>moe::gui::ProgressPanel</name>
    <message>
        <source>%1 s</source>
        <translation>%1 s</translation>
    </message>
    <message>
        <source>%1 min %2 s</source>
        <translation>%1 min %2 s</translation>
    </message>
    <message>
        <source>%1 h %2 min</source>
        <translation>%1 h %2 min</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>Cancel</translation>
    </message>
    <message>
        <source>layer %1 of %2</source>
        <translation>layer %1 of %2</translation>
    </message>
    <message>
        <source>%1 tokens/s · elapsed %2 · about %3 left</source>
        <translation>%1 tokens/s · elapsed %2 · about %3 left</translation>
    </message>
    <message>
        <source>%1 of %2 MB written</source>
        <translation>%1 of %2 MB written</translation>
    </message>
    <message>
        <source>Cancelling…</source>
        <translation>Cancelling…</translation>
    </message>
    <message>
        <source>layer %1 of %2 · expert %3 of %4</source>
        <translation>layer %1 of %2 · expert %3 of %4</translation>
    </message>
</context>
<context>
    <name>moe::gui::SettingsDialog</name>
    <message>
        <source>Settings</source>
        <translation>Settings</translation>
    </message>
    <message>
        <source>System default</source>
        <translation>System default</translation>
    </message>
    <message>
        <source>Language:</source>
        <translation>Language:</translation>
    </message>
    <message>
        <source>Calibration sequences:</source>
        <translation>Calibration sequences:</translation>
    </message>
    <message>
        <source>Sequence length:</source>
        <translation>Sequence length:</translation>
    </message>
    <message>
        <source>Device:</source>
        <translation>Device:</translation>
    </message>
    <message>
        <source>Held-out text for perplexity and KL (JSON lines, plain text, .npy or FILE.h5:DATASET); empty: the demo&apos;s evaluation text</source>
        <translation>Held-out text for perplexity and KL (JSON lines, plain text, .npy or FILE.h5:DATASET); empty: the demo&apos;s evaluation text</translation>
    </message>
    <message>
        <source>Evaluation text:</source>
        <translation>Evaluation text:</translation>
    </message>
    <message>
        <source>Evaluation sequences:</source>
        <translation>Evaluation sequences:</translation>
    </message>
    <message>
        <source>Evaluation length:</source>
        <translation>Evaluation length:</translation>
    </message>
    <message>
        <source>off</source>
        <translation>off</translation>
    </message>
    <message>
        <source>Measure also free-running agreement: greedy continuations of this many held-out prefixes by the original and the merged model (identical prefix, ROUGE-L); 0: off</source>
        <translation>Measure also free-running agreement: greedy continuations of this many held-out prefixes by the original and the merged model (identical prefix, ROUGE-L); 0: off</translation>
    </message>
    <message>
        <source>Generation prompts:</source>
        <translation>Generation prompts:</translation>
    </message>
</context>
<context>
    <name>moe::gui::TryItPanel</name>
    <message>
        <source>Original</source>
        <translation>Original</translation>
    </message>
    <message>
        <source>Merged (tied)</source>
        <translation>Merged (tied)</translation>
    </message>
    <message>
        <source>Merged (compact)</source>
        <translation>Merged (compact)</translation>
    </message>
    <message>
        <source>One prompt per paragraph; a blank line separates prompts</source>
        <translation>One prompt per paragraph; a blank line separates prompts</translation>
    </message>
    <message>
        <source>Load prompts…</source>
        <translation>Load prompts…</translation>
    </message>
    <message>
        <source>Prompts from a JSON-lines file (its &quot;text&quot; field) or a plain-text file (blank-line separated paragraphs)</source>
        <translation>Prompts from a JSON-lines file (its &quot;text&quot; field) or a plain-text file (blank-line separated paragraphs)</translation>
    </message>
    <message>
        <source>Max new tokens</source>
        <translation>Max new tokens</translation>
    </message>
    <message>
        <source>Temperature</source>
        <translation>Temperature</translation>
    </message>
    <message>
        <source>0: greedy decoding</source>
        <translation>0: greedy decoding</translation>
    </message>
    <message>
        <source>Top-p</source>
        <translation>Top-p</translation>
    </message>
    <message>
        <source>Seed</source>
        <translation>Seed</translation>
    </message>
    <message>
        <source>Seed of the sampler (with a temperature above 0)</source>
        <translation>Seed of the sampler (with a temperature above 0)</translation>
    </message>
    <message>
        <source>SCMoE (contrast with a weak routing)</source>
        <translation>SCMoE (contrast with a weak routing)</translation>
    </message>
    <message>
        <source>Self-contrast decoding (Shi et al., 2024): scores = log p_strong + beta (log p_strong - log p_weak), over the tokens at least alpha times as likely as the best one</source>
        <translation>Self-contrast decoding (Shi et al., 2024): scores = log p_strong + beta (log p_strong - log p_weak), over the tokens at least alpha times as likely as the best one</translation>
    </message>
    <message>
        <source>Beta</source>
        <translation>Beta</translation>
    </message>
    <message>
        <source>Alpha</source>
        <translation>Alpha</translation>
    </message>
    <message>
        <source>Weak routing</source>
        <translation>Weak routing</translation>
    </message>
    <message>
        <source>top-k</source>
        <translation>top-k</translation>
    </message>
    <message>
        <source>rank</source>
        <translation>rank</translation>
    </message>
    <message>
        <source>top-k: the block&apos;s top-k cut to this many experts; rank: only the expert the router ranks at this place</source>
        <translation>top-k: the block&apos;s top-k cut to this many experts; rank: only the expert the router ranks at this place</translation>
    </message>
    <message>
        <source>Merged variants of the current plan (tied and compact)</source>
        <translation>Merged variants of the current plan (tied and compact)</translation>
    </message>
    <message>
        <source>Generate</source>
        <translation>Generate</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>Cancel</translation>
    </message>
    <message>
        <source>Load Prompts</source>
        <translation>Load Prompts</translation>
    </message>
    <message>
        <source>Prompts (*.jsonl *.json *.txt);;All files (*)</source>
        <translation>Prompts (*.jsonl *.json *.txt);;All files (*)</translation>
    </message>
    <message numerus="yes">
        <source>Loaded %n prompt(s) from %1</source>
        <translation>
            <numerusform>Loaded %n prompt from %1</numerusform>
            <numerusform>Loaded %n prompts from %1</numerusform>
        </translation>
    </message>
    <message>
        <source>Open a model or an analysis first: the panel generates with its model.</source>
        <translation>Open a model or an analysis first: the panel generates with its model.</translation>
    </message>
    <message>
        <source>Type at least one prompt (a blank line separates prompts).</source>
        <translation>Type at least one prompt (a blank line separates prompts).</translation>
    </message>
    <message>
        <source>The current plan cannot be merged: %1</source>
        <translation>The current plan cannot be merged: %1</translation>
    </message>
    <message>
        <source>generating text</source>
        <translation>generating text</translation>
    </message>
    <message>
        <source>Loading the model and the tokenizer…</source>
        <translation>Loading the model and the tokenizer…</translation>
    </message>
    <message>
        <source>Cancelling…</source>
        <translation>Cancelling…</translation>
    </message>
    <message>
        <source>Prompt %1: %2</source>
        <translation>Prompt %1: %2</translation>
    </message>
    <message numerus="yes">
        <source>Generating %n token(s) per prompt…</source>
        <translation>
            <numerusform>Generating %n token per prompt…</numerusform>
            <numerusform>Generating %n tokens per prompt…</numerusform>
        </translation>
    </message>
    <message>
        <source>From token %1 on, this continuation differs from the original&apos;s</source>
        <translation>From token %1 on, this continuation differs from the original&apos;s</translation>
    </message>
    <message>
        <source>end of text</source>
        <translation>end of text</translation>
    </message>
    <message>
        <source>reference · %1 tokens/s</source>
        <translation>reference · %1 tokens/s</translation>
    </message>
    <message>
        <source>same prefix %1 tokens · ROUGE-L %2 · %3 tokens/s</source>
        <translation>same prefix %1 tokens · ROUGE-L %2 · %3 tokens/s</translation>
    </message>
    <message>
        <source>Done in %1 s.</source>
        <translation>Done in %1 s.</translation>
    </message>
    <message>
        <source>Generation cancelled.</source>
        <translation>Generation cancelled.</translation>
    </message>
    <message>
        <source>Generation failed: %1</source>
        <translation>Generation failed: %1</translation>
    </message>
</context>
<context>
    <name>moe::gui::WelcomePage</name>
    <message>
        <source>See how redundant a Mixture-of-Experts model&apos;s experts are, cut the dendrograms layer by layer, and merge them with HC-SMoE.</source>
        <translation>See how redundant a Mixture-of-Experts model&apos;s experts are, cut the dendrograms layer by layer, and merge them with HC-SMoE.</translation>
    </message>
    <message>
        <source>Explore the demo model</source>
        <translation>Explore the demo model</translation>
    </message>
    <message>
        <source>A small Mixtral-style model with 16 experts per layer, bundled with MoEScope</source>
        <translation>A small Mixtral-style model with 16 experts per layer, bundled with MoEScope</translation>
    </message>
    <message>
        <source>Open Model…</source>
        <translation>Open Model…</translation>
    </message>
    <message>
        <source>Analyse a Hugging Face checkpoint folder</source>
        <translation>Analyse a Hugging Face checkpoint folder</translation>
    </message>
    <message>
        <source>Open Analysis…</source>
        <translation>Open Analysis…</translation>
    </message>
    <message>
        <source>Reopen a saved analysis (.h5)</source>
        <translation>Reopen a saved analysis (.h5)</translation>
    </message>
    <message>
        <source>Tip: drop a model folder or an analysis file on this window.</source>
        <translation>Tip: drop a model folder or an analysis file on this window.</translation>
    </message>
    <message>
        <source>Recent</source>
        <translation>Recent</translation>
    </message>
    <message>
        <source>No recent models or analyses</source>
        <translation>No recent models or analyses</translation>
    </message>
</context>
<context>
    <name>moe::widgets::ClusterColoring</name>
    <message>
        <source>grey: %1</source>
        <translation>grey: %1</translation>
    </message>
    <message numerus="yes">
        <source>%n singletons</source>
        <translation>
            <numerusform>%n singleton</numerusform>
            <numerusform>%n singletons</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n small clusters</source>
        <translation>
            <numerusform>%n small cluster</numerusform>
            <numerusform>%n small clusters</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>pale: %n dropped</source>
        <translation>
            <numerusform>pale: %n dropped</numerusform>
            <numerusform>pale: %n dropped</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>moe::widgets::DendrogramView</name>
    <message>
        <source>merge height</source>
        <translation>merge height</translation>
    </message>
    <message>
        <source>expert (usage %)</source>
        <translation>expert (usage %)</translation>
    </message>
    <message>
        <source>K = %1</source>
        <translation>K = %1</translation>
    </message>
    <message>
        <source>Expert %1</source>
        <translation>Expert %1</translation>
    </message>
    <message numerus="yes">
        <source>%n experts: %1</source>
        <translation>
            <numerusform>%n expert: %1</numerusform>
            <numerusform>%n experts: %1</numerusform>
        </translation>
    </message>
    <message>
        <source>Merge height: %1</source>
        <translation>Merge height: %1</translation>
    </message>
    <message>
        <source>Usage: %1 %</source>
        <translation>Usage: %1 %</translation>
    </message>
    <message>
        <source>Fit whole tree</source>
        <translation>Fit whole tree</translation>
    </message>
    <message>
        <source>Fold all clusters</source>
        <translation>Fold all clusters</translation>
    </message>
    <message>
        <source>Horizontal layout</source>
        <translation>Horizontal layout</translation>
    </message>
    <message>
        <source>Folded cluster (click to unfold)</source>
        <translation>Folded cluster (click to unfold)</translation>
    </message>
    <message>
        <source>Unfold this cluster</source>
        <translation>Unfold this cluster</translation>
    </message>
    <message>
        <source>Fold this cluster</source>
        <translation>Fold this cluster</translation>
    </message>
</context>
<context>
    <name>moe::widgets::HeatmapControls</name>
    <message>
        <source>Clusters</source>
        <translation>Clusters</translation>
    </message>
    <message>
        <source>One cell per pair of clusters: the mean value between their experts</source>
        <translation>One cell per pair of clusters: the mean value between their experts</translation>
    </message>
    <message>
        <source>Fit</source>
        <translation>Fit</translation>
    </message>
    <message>
        <source>Show the whole matrix (wheel or +/- zoom, drag or arrow keys pan, double-click or Home fits)</source>
        <translation>Show the whole matrix (wheel or +/- zoom, drag or arrow keys pan, double-click or Home fits)</translation>
    </message>
</context>
<context>
    <name>moe::widgets::HeatmapView</name>
    <message>
        <source>expert</source>
        <translation>expert</translation>
    </message>
    <message>
        <source>Expert %1 ↔ expert %2</source>
        <translation>Expert %1 ↔ expert %2</translation>
    </message>
    <message>
        <source>%1: %2</source>
        <translation>%1: %2</translation>
    </message>
    <message>
        <source>Value</source>
        <translation>Value</translation>
    </message>
    <message>
        <source>Usage: %1 % / %2 %</source>
        <translation>Usage: %1 % / %2 %</translation>
    </message>
    <message>
        <source>c%1</source>
        <translation>c%1</translation>
    </message>
    <message>
        <source>Mean %1: %2</source>
        <translation>Mean %1: %2</translation>
    </message>
    <message>
        <source>%1 and %2 experts</source>
        <translation>%1 and %2 experts</translation>
    </message>
    <message>
        <source>dropped</source>
        <translation>dropped</translation>
    </message>
    <message>
        <source>dropped experts</source>
        <translation>dropped experts</translation>
    </message>
    <message>
        <source>cluster %1</source>
        <translation>cluster %1</translation>
    </message>
    <message>
        <source>%1 ↔ %2</source>
        <translation>%1 ↔ %2</translation>
    </message>
</context>
<context>
    <name>moe::widgets::LayerOverview</name>
    <message>
        <source>clusters kept (K)</source>
        <translation>clusters kept (K)</translation>
    </message>
    <message>
        <source>layer</source>
        <translation>layer</translation>
    </message>
    <message>
        <source>cut height / top merge</source>
        <translation>cut height / top merge</translation>
    </message>
    <message>
        <source>Layer %1 · %2 experts · chosen K %3</source>
        <translation>Layer %1 · %2 experts · chosen K %3</translation>
    </message>
    <message>
        <source>K = %1: cut at %2 % of the top merge</source>
        <translation>K = %1: cut at %2 % of the top merge</translation>
    </message>
</context>
<context>
    <name>moe::widgets::LayerTable</name>
    <message>
        <source>Layer</source>
        <translation>Layer</translation>
    </message>
    <message>
        <source>Experts</source>
        <translation>Experts</translation>
    </message>
    <message>
        <source>K</source>
        <translation>K</translation>
    </message>
    <message>
        <source>Memory</source>
        <translation>Memory</translation>
    </message>
    <message>
        <source>Error</source>
        <translation>Error</translation>
    </message>
    <message>
        <source>Usage</source>
        <translation>Usage</translation>
    </message>
    <message>
        <source>Parameter memory of the layer after merging</source>
        <translation>Parameter memory of the layer after merging</translation>
    </message>
    <message>
        <source>%1 (dense)</source>
        <translation>%1 (dense)</translation>
    </message>
    <message>
        <source>Set for this layer (overrides the global allocation)</source>
        <translation>Set for this layer (overrides the global allocation)</translation>
    </message>
    <message>
        <source>Relative L2 error of the merged block&apos;s output against the original block on calibration tokens (tied semantics). Values marked ≈ are estimates from the experts&apos; mean outputs, shown until the exact value is computed.</source>
        <translation>Relative L2 error of the merged block&apos;s output against the original block on calibration tokens (tied semantics). Values marked ≈ are estimates from the experts&apos; mean outputs, shown until the exact value is computed.</translation>
    </message>
    <message>
        <source>Red.</source>
        <translation>Red.</translation>
    </message>
    <message>
        <source>Skew</source>
        <translation>Skew</translation>
    </message>
    <message>
        <source>Redundancy: 1 − mean distance from each expert to its nearest other expert / mean distance between experts. Near 1: experts have close twins and merge cheaply; near 0: evenly spread.</source>
        <translation>Redundancy: 1 − mean distance from each expert to its nearest other expert / mean distance between experts. Near 1: experts have close twins and merge cheaply; near 0: evenly spread.</translation>
    </message>
    <message>
        <source>Usage skew: 1 − normalised entropy of the usage frequencies. 0: every expert used equally; 1: one expert takes every selection.</source>
        <translation>Usage skew: 1 − normalised entropy of the usage frequencies. 0: every expert used equally; 1: one expert takes every selection.</translation>
    </message>
    <message>
        <source>Usage frequency of each expert, in dendrogram order (sorts by usage skew)</source>
        <translation>Usage frequency of each expert, in dendrogram order (sorts by usage skew)</translation>
    </message>
    <message>
        <source>%1 (pending)</source>
        <translation>%1 (pending)</translation>
    </message>
</context>
<context>
    <name>moe::widgets::TradeoffPlot</name>
    <message>
        <source>uniform K</source>
        <translation>uniform K</translation>
    </message>
    <message>
        <source>current plan</source>
        <translation>current plan</translation>
    </message>
    <message>
        <source>memory</source>
        <translation>memory</translation>
    </message>
    <message>
        <source>error</source>
        <translation>error</translation>
    </message>
    <message>
        <source>plan</source>
        <translation>plan</translation>
    </message>
    <message>
        <source>measured (tied)</source>
        <translation>measured (tied)</translation>
    </message>
    <message>
        <source>measured (compact)</source>
        <translation>measured (compact)</translation>
    </message>
</context>
<context>
    <name>moe::widgets::UsageChart</name>
    <message>
        <source>usage %</source>
        <translation>usage %</translation>
    </message>
    <message>
        <source>REAP score</source>
        <translation>REAP score</translation>
    </message>
    <message>
        <source>expert</source>
        <translation>expert</translation>
    </message>
    <message>
        <source>usage frequency</source>
        <translation>usage frequency</translation>
    </message>
    <message>
        <source>Expert %1</source>
        <translation>Expert %1</translation>
    </message>
    <message>
        <source>Usage: %1 %</source>
        <translation>Usage: %1 %</translation>
    </message>
    <message>
        <source>REAP score: %1</source>
        <translation>REAP score: %1</translation>
    </message>
    <message>
        <source>top %1 of %2 experts by REAP score</source>
        <translation>top %1 of %2 experts by REAP score</translation>
    </message>
    <message>
        <source>top %1 of %2 experts by usage</source>
        <translation>top %1 of %2 experts by usage</translation>
    </message>
    <message numerus="yes">
        <source>%n hidden</source>
        <translation>
            <numerusform>%n hidden</numerusform>
            <numerusform>%n hidden</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>moe::widgets::UsageChartControls</name>
    <message>
        <source>Dendrogram order</source>
        <translation>Dendrogram order</translation>
    </message>
    <message>
        <source>By usage</source>
        <translation>By usage</translation>
    </message>
    <message>
        <source>By REAP score</source>
        <translation>By REAP score</translation>
    </message>
    <message>
        <source>Order of the bars</source>
        <translation>Order of the bars</translation>
    </message>
    <message>
        <source>top </source>
        <translation>top </translation>
    </message>
    <message>
        <source>all experts</source>
        <translation>all experts</translation>
    </message>
    <message>
        <source>Show only this many experts, those used most (or with the highest REAP score when sorted by it); 0 shows all</source>
        <translation>Show only this many experts, those used most (or with the highest REAP score when sorted by it); 0 shows all</translation>
    </message>
</context>
</TS>
