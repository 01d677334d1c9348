<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>moe::gui::AnalysisDialog</name>
    <message>
        <source>Analyse Model</source>
        <translation>分析模型</translation>
    </message>
    <message>
        <source>Browse…</source>
        <translation>浏览…</translation>
    </message>
    <message>
        <source>Model folder:</source>
        <translation>模型文件夹：</translation>
    </message>
    <message>
        <source>Bundled calibration text</source>
        <translation>内置校准文本</translation>
    </message>
    <message>
        <source>File</source>
        <translation>文件</translation>
    </message>
    <message>
        <source>Calibration:</source>
        <translation>校准数据：</translation>
    </message>
    <message>
        <source>.jsonl, .txt, .npy or FILE.h5:DATASET</source>
        <translation>.jsonl、.txt、.npy 或 文件.h5:数据集</translation>
    </message>
    <message>
        <source>tokens</source>
        <translation>个词元</translation>
    </message>
    <message>
        <source>Sequences × length:</source>
        <translation>序列数 × 长度：</translation>
    </message>
    <message>
        <source>Every expert on every token (paper)</source>
        <translation>每个专家处理全部词元（论文做法）</translation>
    </message>
    <message>
        <source>Routed tokens only (faster)</source>
        <translation>仅路由到的词元（更快）</translation>
    </message>
    <message>
        <source>Statistic:</source>
        <translation>统计方式：</translation>
    </message>
    <message>
        <source>Device:</source>
        <translation>设备：</translation>
    </message>
    <message>
        <source>Precision:</source>
        <translation>精度：</translation>
    </message>
    <message>
        <source>Estimated time:</source>
        <translation>预计耗时：</translation>
    </message>
    <message>
        <source>Analyse</source>
        <translation>分析</translation>
    </message>
    <message>
        <source>Model Folder</source>
        <translation>模型文件夹</translation>
    </message>
    <message>
        <source>Calibration Text</source>
        <translation>校准文本</translation>
    </message>
    <message>
        <source>Text or token ids (*.jsonl *.json *.txt *.npy *.h5);;All files (*)</source>
        <translation>文本或词元编号 (*.jsonl *.json *.txt *.npy *.h5);;所有文件 (*)</translation>
    </message>
    <message>
        <source>unknown (no readable config.json in the model folder)</source>
        <translation>未知（模型文件夹中没有可读的 config.json）</translation>
    </message>
    <message>
        <source>about %1 (%2 TFLOP at %3 GFLOP/s, the speed measured on this machine)</source>
        <translation>约 %1（%2 TFLOP，按本机实测速度 %3 GFLOP/s 计算）</translation>
    </message>
</context>
<context>
    <name>moe::gui::AnalysisRunner</name>
    <message>
        <source>The model changed since the cached analysis (%1); analysing again…</source>
        <translation>自缓存的分析以来模型已改变（%1）；正在重新分析…</translation>
    </message>
    <message>
        <source>Model not available (%1); opening the statistics only</source>
        <translation>模型不可用（%1）；仅打开统计数据</translation>
    </message>
</context>
<context>
    <name>moe::gui::AnalysisWorker</name>
    <message>
        <source>Opening the model…</source>
        <translation>正在打开模型…</translation>
    </message>
    <message>
        <source>Reading the calibration text…</source>
        <translation>正在读取校准文本…</translation>
    </message>
    <message>
        <source>Analysing %1 MoE blocks…</source>
        <translation>正在分析 %1 个 MoE 模块…</translation>
    </message>
    <message>
        <source>Reading the analysis…</source>
        <translation>正在读取分析结果…</translation>
    </message>
</context>
<context>
    <name>moe::gui::ExplorerDocument</name>
    <message>
        <source>single</source>
        <translation>单</translation>
    </message>
    <message>
        <source>complete</source>
        <translation>全</translation>
    </message>
    <message>
        <source>average</source>
        <translation>平均</translation>
    </message>
    <message>
        <source>Ward</source>
        <translation>Ward</translation>
    </message>
    <message>
        <source>Set the expert budget to %1 per layer</source>
        <translation>将专家预算设为每层 %1 个</translation>
    </message>
    <message>
        <source>Set K = %1 for every layer</source>
        <translation>所有层设为 K = %1</translation>
    </message>
    <message>
        <source>Set K = %1 for layer %2</source>
        <translation>第 %2 层设为 K = %1</translation>
    </message>
    <message>
        <source>Reset K of layer %1</source>
        <translation>重置第 %1 层的 K</translation>
    </message>
    <message>
        <source>Reset per-layer K</source>
        <translation>重置各层 K</translation>
    </message>
    <message>
        <source>Use %1 linkage</source>
        <translation>使用%1连接</translation>
    </message>
    <message>
        <source>Compare experts by %1</source>
        <translation>按 %1 比较专家</translation>
    </message>
    <message>
        <source>Use %1 distance</source>
        <translation>使用 %1 距离</translation>
    </message>
    <message>
        <source>uniform</source>
        <translation>统一</translation>
    </message>
    <message>
        <source>global frequency</source>
        <translation>全局频率</translation>
    </message>
    <message>
        <source>distance threshold</source>
        <translation>距离阈值</translation>
    </message>
    <message>
        <source>Allocate clusters by %1</source>
        <translation>按%1分配簇数</translation>
    </message>
    <message>
        <source>Cut every tree at height %1</source>
        <translation>在高度 %1 处切分所有树</translation>
    </message>
    <message>
        <source>Use the %1 strategy</source>
        <translation>使用 %1 策略</translation>
    </message>
    <message>
        <source>Load plan %1</source>
        <translation>加载方案 %1</translation>
    </message>
    <message>
        <source>Align neurons before averaging</source>
        <translation>平均前对齐神经元</translation>
    </message>
    <message>
        <source>Average without neuron alignment</source>
        <translation>不对齐神经元直接平均</translation>
    </message>
</context>
<context>
    <name>moe::gui::ExplorerView</name>
    <message>
        <source> · clustering the other layers…</source>
        <translation> · 正在对其他层聚类…</translation>
    </message>
    <message>
        <source>Layers</source>
        <translation>层</translation>
    </message>
    <message>
        <source>Plan</source>
        <translation>方案</translation>
    </message>
    <message>
        <source>Dendrogram</source>
        <translation>树状图</translation>
    </message>
    <message>
        <source>Expert distances</source>
        <translation>专家距离</translation>
    </message>
    <message>
        <source>Usage and REAP</source>
        <translation>使用率与 REAP</translation>
    </message>
    <message>
        <source>Trade-off</source>
        <translation>权衡</translation>
    </message>
    <message>
        <source>K</source>
        <translation>K</translation>
    </message>
    <message>
        <source>Clusters kept in this layer (drag the red cut line to change it)</source>
        <translation>本层保留的簇数（拖动红色切割线即可修改）</translation>
    </message>
    <message>
        <source>Reset</source>
        <translation>重置</translation>
    </message>
    <message>
        <source>Use the global allocation for this layer again</source>
        <translation>本层重新使用全局分配</translation>
    </message>
    <message>
        <source>Dendrogram order</source>
        <translation>树状图顺序</translation>
    </message>
    <message>
        <source>Expert order</source>
        <translation>专家编号顺序</translation>
    </message>
    <message>
        <source>Order of the rows and columns</source>
        <translation>行与列的排列顺序</translation>
    </message>
    <message>
        <source>cosine distance</source>
        <translation>余弦距离</translation>
    </message>
    <message>
        <source>Euclidean distance</source>
        <translation>欧氏距离</translation>
    </message>
    <message>
        <source>layer %1 · %2 experts · top-%3</source>
        <translation>第 %1 层 · %2 个专家 · top-%3</translation>
    </message>
    <message>
        <source>layer %1</source>
        <translation>第 %1 层</translation>
    </message>
    <message>
        <source>layer %1 · %2 calibration tokens</source>
        <translation>第 %1 层 · %2 个校准词元</translation>
    </message>
    <message>
        <source>model size (MB)</source>
        <translation>模型大小 (MB)</translation>
    </message>
    <message>
        <source>experts kept (%)</source>
        <translation>保留的专家 (%)</translation>
    </message>
    <message>
        <source>uniform K from %1 to 1, mean over layers</source>
        <translation>统一 K 从 %1 到 1，各层平均</translation>
    </message>
    <message>
        <source>Relative L2 error of the merged block on %1 calibration tokens:
tied (router kept) %2 · compact (averaged router) %3</source>
        <translation>合并后模块在 %1 个校准词元上的相对 L2 误差：
绑定（保留路由器）%2 · 紧凑（平均路由器）%3</translation>
    </message>
    <message>
        <source>Estimate from the experts&apos; mean outputs; the exact error is not computed yet</source>
        <translation>由专家平均输出得到的估计值；精确误差尚未计算</translation>
    </message>
    <message>
        <source>relative output error (tied)</source>
        <translation>相对输出误差（绑定）</translation>
    </message>
    <message>
        <source>output error (estimate)</source>
        <translation>输出误差（估计）</translation>
    </message>
    <message>
        <source>uniform K from %1 to 1, mean over layers · estimate until the exact errors are computed</source>
        <translation>统一 K 从 %1 到 1，各层平均 · 精确误差算出前为估计值</translation>
    </message>
    <message>
        <source>Measure perplexity / KL</source>
        <translation>测量困惑度 / KL</translation>
    </message>
    <message>
        <source>Perplexity and KL(original || merged) of the current plan on held-out text, tied and compact (text and size in Settings)</source>
        <translation>当前方案在留出文本上的困惑度和 KL(原始 || 合并)，分别按绑定和紧凑语义（文本和规模在设置中）</translation>
    </message>
    <message>
        <source>measurement cancelled</source>
        <translation>测量已取消</translation>
    </message>
    <message>
        <source>measurement failed</source>
        <translation>测量失败</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>measuring on %1 × %2 tokens…</source>
        <translation>正在 %1 × %2 个词元上测量…</translation>
    </message>
    <message>
        <source>perplexity %1 → %2 tied · %3 compact</source>
        <translation>困惑度 %1 → 绑定 %2 · 紧凑 %3</translation>
    </message>
    <message>
        <source>
(measured for an earlier plan)</source>
        <translation>
（针对之前的方案测量）</translation>
    </message>
    <message>
        <source>Distance</source>
        <translation>距离</translation>
    </message>
    <message>
        <source>Cosine similarity</source>
        <translation>余弦相似度</translation>
    </message>
    <message>
        <source>Show the distances the clustering uses, or the cosine similarity of the same representation (view only: the plan does not change)</source>
        <translation>显示聚类所用的距离，或同一表示的余弦相似度（仅改变视图：方案不变）</translation>
    </message>
    <message>
        <source>cosine similarity</source>
        <translation>余弦相似度</translation>
    </message>
    <message>
        <source>Expert similarities</source>
        <translation>专家相似度</translation>
    </message>
    <message>
        <source>All layers</source>
        <translation>所有层</translation>
    </message>
    <message>
        <source>Find expert</source>
        <translation>查找专家</translation>
    </message>
    <message>
        <source>Type an expert id and press Enter: its cluster unfolds and the view zooms to it</source>
        <translation>输入专家编号并按回车：展开其所在簇并缩放到该专家</translation>
    </message>
    <message>
        <source>On %1 predicted tokens of held-out text (%2 s):
original perplexity %3
tied: perplexity %4, KL(original || merged) %5, top-1 agreement %9 %
compact: perplexity %6, KL(original || merged) %7, top-1 agreement %10 %%8</source>
        <translation>在留出文本的 %1 个预测词元上（%2 秒）：
原始困惑度 %3
绑定：困惑度 %4，KL(原始 || 合并) %5，top-1 一致率 %9 %
紧凑：困惑度 %6，KL(原始 || 合并) %7，top-1 一致率 %10 %%8</translation>
    </message>
    <message>
        <source>ppl %1 tied · %2 compact
KL %3 · %4
top-1 %5 % · %6 %</source>
        <translation>困惑度 %1 绑定 · %2 紧凑
KL %3 · %4
top-1 %5 % · %6 %</translation>
    </message>
    <message>
        <source>output error</source>
        <translation>输出误差</translation>
    </message>
    <message>
        <source>top-1 agreement</source>
        <translation>top-1 一致率</translation>
    </message>
    <message>
        <source>generation agreement (ROUGE-L)</source>
        <translation>生成一致性 (ROUGE-L)</translation>
    </message>
    <message>
        <source>identical prefix</source>
        <translation>相同前缀</translation>
    </message>
    <message>
        <source>The y axis: the uniform plans&apos; output error, or an agreement with the original measured for plans (Measure perplexity / KL)</source>
        <translation>纵轴：统一方案的输出误差，或为已测量方案测得的与原始模型的一致性（测量困惑度 / KL）</translation>
    </message>
    <message>
        <source>
free-running agreement over %1 held-out prefixes: identical prefix %2 tied · %3 compact tokens, ROUGE-L %4 · %5</source>
        <translation>
在 %1 个留出前缀上的自由生成一致性：相同前缀 %2 绑定 · %3 紧凑（词元），ROUGE-L %4 · %5</translation>
    </message>
    <message>
        <source>top-1 agreement (%, teacher-forced)</source>
        <translation>top-1 一致率（%，教师强制）</translation>
    </message>
    <message>
        <source>identical prefix (tokens)</source>
        <translation>相同前缀（词元）</translation>
    </message>
    <message>
        <source>Measure a plan (Measure perplexity / KL) to see its top-1 agreement</source>
        <translation>测量一个方案（测量困惑度 / KL）以查看其 top-1 一致率</translation>
    </message>
    <message>
        <source>Measure a plan with generation prompts on (Settings) to see generation agreement</source>
        <translation>开启生成提示（设置）并测量一个方案以查看生成一致性</translation>
    </message>
    <message>
        <source>measured plans (tied and compact): %1</source>
        <translation>已测量方案（绑定和紧凑）：%1</translation>
    </message>
</context>
<context>
    <name>moe::gui::ExportDialog</name>
    <message>
        <source>Export Merged Model</source>
        <translation>导出合并后的模型</translation>
    </message>
    <message>
        <source>Compact: K experts per layer, loads in stock transformers</source>
        <translation>紧凑格式：每层 K 个专家，可直接由标准 transformers 加载</translation>
    </message>
    <message>
        <source>Expert map: original router, K per layer (the paper&apos;s tied model)</source>
        <translation>专家映射：保留原路由器，每层可不同 K（论文中的绑定模型）</translation>
    </message>
    <message>
        <source>Format:</source>
        <translation>格式：</translation>
    </message>
    <message>
        <source>Average of the member rows</source>
        <translation>成员行的平均</translation>
    </message>
    <message>
        <source>Usage-weighted average of the member rows</source>
        <translation>按使用率加权的成员行平均</translation>
    </message>
    <message>
        <source>Compact router:</source>
        <translation>紧凑格式路由器：</translation>
    </message>
    <message>
        <source>Browse…</source>
        <translation>浏览…</translation>
    </message>
    <message>
        <source>Output folder:</source>
        <translation>输出文件夹：</translation>
    </message>
    <message>
        <source> MB</source>
        <translation> MB</translation>
    </message>
    <message>
        <source>Shard size:</source>
        <translation>分片大小：</translation>
    </message>
    <message>
        <source>Result:</source>
        <translation>结果：</translation>
    </message>
    <message>
        <source>Export</source>
        <translation>导出</translation>
    </message>
    <message>
        <source>Output Folder</source>
        <translation>输出文件夹</translation>
    </message>
    <message>
        <source>K per layer: %1</source>
        <translation>各层 K：%1</translation>
    </message>
    <message>
        <source>About %1 (from %2)</source>
        <translation>约 %1（原为 %2）</translation>
    </message>
    <message>
        <source>Cannot export this plan</source>
        <translation>无法导出此方案</translation>
    </message>
    <message>
        <source>Fitted: logsumexp of member logits (lse-fit)</source>
        <translation>拟合：成员 logits 的 logsumexp（lse-fit）</translation>
    </message>
    <message>
        <source>Fitted: soft routing targets (soft-fit)</source>
        <translation>拟合：软路由目标（soft-fit）</translation>
    </message>
    <message>
        <source>Fitted: imitate the tied model, layer by layer (tied-fit)</source>
        <translation>拟合：逐层模仿绑定模型（tied-fit）</translation>
    </message>
    <message>
        <source>How the compact model&apos;s router row of each group is built. Fitted routers are trained on the analysis&apos; calibration tokens (slower export, usually closer to the original).</source>
        <translation>紧凑模型中每组路由器行的构建方式。拟合路由器在分析所用的校准词元上训练（导出较慢，通常更接近原始模型）。</translation>
    </message>
    <message>
        <source>As the source (FP8 / MXFP4 stay quantized)</source>
        <translation>与源模型相同（FP8 / MXFP4 保持量化）</translation>
    </message>
    <message>
        <source>BF16</source>
        <translation>BF16</translation>
    </message>
    <message>
        <source>A quantized source keeps its encoding: unmerged experts are copied byte for byte and merged ones re-quantized with the same scheme. BF16 dequantizes everything, for runtimes without FP8 / MXFP4 kernels (about twice the size of FP8).</source>
        <translation>量化的源模型保持其编码：未合并的专家逐字节复制，合并后的专家按相同方案重新量化。BF16 将全部反量化，适用于没有 FP8 / MXFP4 内核的运行环境（大小约为 FP8 的两倍）。</translation>
    </message>
    <message>
        <source>Precision:</source>
        <translation>精度：</translation>
    </message>
</context>
<context>
    <name>moe::gui::JobGate</name>
    <message>
        <source>Busy: %1. Wait for it to finish or cancel it first.</source>
        <translation>忙碌中：%1。请等待其完成或先取消。</translation>
    </message>
</context>
<context>
    <name>moe::gui::LayerErrorStatus</name>
    <message>
        <source>exact errors</source>
        <translation>精确误差</translation>
    </message>
    <message>
        <source>Relative L2 error of each merged block&apos;s output against the original block on %1 calibration tokens</source>
        <translation>每个合并后模块的输出相对原始模块在 %1 个校准词元上的相对 L2 误差</translation>
    </message>
    <message>
        <source>preparing exact errors…</source>
        <translation>正在准备精确误差…</translation>
    </message>
    <message>
        <source>Running the calibration tokens through the model once; the errors shown are estimates until then</source>
        <translation>正在让校准词元通过模型一次；在此之前显示的误差为估计值</translation>
    </message>
    <message numerus="yes">
        <source>exact errors: %n left</source>
        <translation>
            <numerusform>精确误差：剩余 %n 项</numerusform>
        </translation>
    </message>
    <message>
        <source>Scoring the plan&apos;s blocks first, then the trade-off curve</source>
        <translation>先计算方案中的各模块，再计算权衡曲线</translation>
    </message>
    <message>
        <source>estimates (exact errors stopped)</source>
        <translation>估计值（精确误差已停止）</translation>
    </message>
    <message>
        <source>estimates (exact errors unavailable)</source>
        <translation>估计值（精确误差不可用）</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Compute</source>
        <translation>计算</translation>
    </message>
    <message>
        <source>Stop computing exact errors; the estimates stay</source>
        <translation>停止计算精确误差；保留估计值</translation>
    </message>
    <message>
        <source>Compute the exact errors</source>
        <translation>计算精确误差</translation>
    </message>
    <message>
        <source> · %1 %</source>
        <translation> · %1 %</translation>
    </message>
    <message>
        <source> · about %1 left</source>
        <translation> · 约剩 %1</translation>
    </message>
</context>
<context>
    <name>moe::gui::MainWindow</name>
    <message>
        <source>History</source>
        <translation>历史记录</translation>
    </message>
    <message>
        <source>&lt;analysis opened&gt;</source>
        <translation>&lt;已打开分析&gt;</translation>
    </message>
    <message>
        <source>Ready</source>
        <translation>就绪</translation>
    </message>
    <message>
        <source>Exported %1</source>
        <translation>已导出 %1</translation>
    </message>
    <message>
        <source>Export finished</source>
        <translation>导出完成</translation>
    </message>
    <message>
        <source>Wrote %1 tensors (%2) in %3 files to
%4</source>
        <translation>已将 %1 个张量（%2）写入 %3 个文件：
%4</translation>
    </message>
    <message>
        <source>Open Folder</source>
        <translation>打开文件夹</translation>
    </message>
    <message>
        <source>Export cancelled; nothing was written.</source>
        <translation>导出已取消，未写入任何内容。</translation>
    </message>
    <message>
        <source>Export failed</source>
        <translation>导出失败</translation>
    </message>
    <message>
        <source>Analysis cancelled. Finished layers are kept; the next run resumes from them.</source>
        <translation>分析已取消。已完成的层会保留，下次运行将从这些层继续。</translation>
    </message>
    <message>
        <source>Analysis failed</source>
        <translation>分析失败</translation>
    </message>
    <message>
        <source>Edit not applied: %1</source>
        <translation>未应用修改：%1</translation>
    </message>
    <message>
        <source>%1 · %2 → %3</source>
        <translation>%1 · %2 → %3</translation>
    </message>
    <message>
        <source>Open &amp;Demo</source>
        <translation>打开演示(&amp;D)</translation>
    </message>
    <message>
        <source>&amp;Open Model…</source>
        <translation>打开模型(&amp;O)…</translation>
    </message>
    <message>
        <source>Open &amp;Analysis…</source>
        <translation>打开分析(&amp;A)…</translation>
    </message>
    <message>
        <source>Ctrl+Shift+O</source>
        <translation>Ctrl+Shift+O</translation>
    </message>
    <message>
        <source>&amp;Analyse Again…</source>
        <translation>重新分析(&amp;A)…</translation>
    </message>
    <message>
        <source>Ctrl+R</source>
        <translation>Ctrl+R</translation>
    </message>
    <message>
        <source>&amp;Save Plan…</source>
        <translation>保存方案(&amp;S)…</translation>
    </message>
    <message>
        <source>&amp;Load Plan…</source>
        <translation>加载方案(&amp;L)…</translation>
    </message>
    <message>
        <source>Ctrl+L</source>
        <translation>Ctrl+L</translation>
    </message>
    <message>
        <source>&amp;Export Merged Model…</source>
        <translation>导出合并后的模型(&amp;E)…</translation>
    </message>
    <message>
        <source>Ctrl+E</source>
        <translation>Ctrl+E</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>文件(&amp;F)</translation>
    </message>
    <message>
        <source>Open &amp;Recent</source>
        <translation>最近打开(&amp;R)</translation>
    </message>
    <message>
        <source>Export &amp;Figure</source>
        <translation>导出图表(&amp;F)</translation>
    </message>
    <message>
        <source>Dendrogram…</source>
        <translation>树状图…</translation>
    </message>
    <message>
        <source>Distance Heatmap…</source>
        <translation>距离热图…</translation>
    </message>
    <message>
        <source>Usage Chart…</source>
        <translation>使用率图…</translation>
    </message>
    <message>
        <source>Trade-off Plot…</source>
        <translation>权衡图…</translation>
    </message>
    <message>
        <source>Export &amp;Data</source>
        <translation>导出数据(&amp;D)</translation>
    </message>
    <message>
        <source>Distances (CSV)…</source>
        <translation>距离 (CSV)…</translation>
    </message>
    <message>
        <source>Groups of Every Layer (JSON)…</source>
        <translation>各层分组 (JSON)…</translation>
    </message>
    <message>
        <source>Dendrogram (Newick)…</source>
        <translation>树状图 (Newick)…</translation>
    </message>
    <message>
        <source>Se&amp;ttings…</source>
        <translation>设置(&amp;T)…</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>退出(&amp;Q)</translation>
    </message>
    <message>
        <source>&amp;Edit</source>
        <translation>编辑(&amp;E)</translation>
    </message>
    <message>
        <source>&amp;Undo</source>
        <translation>撤销(&amp;U)</translation>
    </message>
    <message>
        <source>&amp;Redo</source>
        <translation>重做(&amp;R)</translation>
    </message>
    <message>
        <source>Ctrl+Shift+Z</source>
        <translation>Ctrl+Shift+Z</translation>
    </message>
    <message>
        <source>More Clusters</source>
        <translation>增加簇数</translation>
    </message>
    <message>
        <source>Ctrl+Up</source>
        <translation>Ctrl+Up</translation>
    </message>
    <message>
        <source>Fewer Clusters</source>
        <translation>减少簇数</translation>
    </message>
    <message>
        <source>Ctrl+Down</source>
        <translation>Ctrl+Down</translation>
    </message>
    <message>
        <source>Reset Per-Layer K</source>
        <translation>重置各层 K</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>视图(&amp;V)</translation>
    </message>
    <message>
        <source>Next Layer</source>
        <translation>下一层</translation>
    </message>
    <message>
        <source>Alt+Down</source>
        <translation>Alt+Down</translation>
    </message>
    <message>
        <source>Previous Layer</source>
        <translation>上一层</translation>
    </message>
    <message>
        <source>Alt+Up</source>
        <translation>Alt+Up</translation>
    </message>
    <message>
        <source>Welcome Page</source>
        <translation>欢迎页</translation>
    </message>
    <message>
        <source>Explorer</source>
        <translation>浏览器</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>帮助(&amp;H)</translation>
    </message>
    <message>
        <source>&amp;About MoEScope</source>
        <translation>关于 MoEScope(&amp;A)</translation>
    </message>
    <message>
        <source>About MoEScope</source>
        <translation>关于 MoEScope</translation>
    </message>
    <message>
        <source>&lt;h3&gt;MoEScope %1&lt;/h3&gt;&lt;p&gt;Inspect expert redundancy in Mixture-of-Experts models and merge experts with HC-SMoE (hierarchical clustering of expert outputs, Chen et al., ICML 2025).&lt;/p&gt;</source>
        <translation>&lt;h3&gt;MoEScope %1&lt;/h3&gt;&lt;p&gt;检查混合专家（MoE）模型中的专家冗余，并用 HC-SMoE（对专家输出做层次聚类，Chen 等，ICML 2025）合并专家。&lt;/p&gt;</translation>
    </message>
    <message>
        <source>(none)</source>
        <translation>（无）</translation>
    </message>
    <message>
        <source>Clear</source>
        <translation>清除</translation>
    </message>
    <message>
        <source>Demo not found</source>
        <translation>未找到演示模型</translation>
    </message>
    <message>
        <source>The bundled demo model (resources/demo) was not found next to the executable. Set MOESCOPE_DEMO_DIR to its folder.</source>
        <translation>在可执行文件旁未找到内置演示模型 (resources/demo)。请将 MOESCOPE_DEMO_DIR 设为其所在文件夹。</translation>
    </message>
    <message>
        <source>Analysing %1</source>
        <translation>正在分析 %1</translation>
    </message>
    <message>
        <source>Opening %1</source>
        <translation>正在打开 %1</translation>
    </message>
    <message>
        <source>%1 — MoEScope</source>
        <translation>%1 — MoEScope</translation>
    </message>
    <message>
        <source>%1 MoE layers · %2 experts · top-%3 · %4 × %5 calibration tokens · %6</source>
        <translation>%1 个 MoE 层 · %2 个专家 · top-%3 · %4 × %5 个校准词元 · %6</translation>
    </message>
    <message>
        <source>Open Model Folder</source>
        <translation>打开模型文件夹</translation>
    </message>
    <message>
        <source>Open Analysis</source>
        <translation>打开分析</translation>
    </message>
    <message>
        <source>MoEScope analyses (*.h5);;All files (*)</source>
        <translation>MoEScope 分析文件 (*.h5);;所有文件 (*)</translation>
    </message>
    <message>
        <source>Save Plan</source>
        <translation>保存方案</translation>
    </message>
    <message>
        <source>Merge plans (*.json)</source>
        <translation>合并方案 (*.json)</translation>
    </message>
    <message>
        <source>Saved %1</source>
        <translation>已保存 %1</translation>
    </message>
    <message>
        <source>Load Plan</source>
        <translation>加载方案</translation>
    </message>
    <message>
        <source>Export Figure</source>
        <translation>导出图表</translation>
    </message>
    <message>
        <source>PNG image (*.png);;SVG drawing (*.svg);;PDF document (*.pdf)</source>
        <translation>PNG 图像 (*.png);;SVG 矢量图 (*.svg);;PDF 文档 (*.pdf)</translation>
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
        <translation>导出数据</translation>
    </message>
    <message>
        <source>Exporting to %1</source>
        <translation>正在导出到 %1</translation>
    </message>
    <message>
        <source>Fitting the compact routers: block %1 of %2</source>
        <translation>正在拟合紧凑路由器：第 %1 / %2 个模块</translation>
    </message>
    <message>
        <source>&amp;Undo %1</source>
        <translation>撤销 %1(&amp;U)</translation>
    </message>
    <message>
        <source>&amp;Redo %1</source>
        <translation>重做 %1(&amp;R)</translation>
    </message>
    <message>
        <source>Cannot open %1</source>
        <translation>无法打开 %1</translation>
    </message>
    <message>
        <source>Cannot show the analysis %1</source>
        <translation>无法显示分析 %1</translation>
    </message>
    <message>
        <source>Cannot apply the settings</source>
        <translation>无法应用设置</translation>
    </message>
    <message>
        <source>Cannot load the plan %1</source>
        <translation>无法加载方案 %1</translation>
    </message>
    <message>
        <source>Cannot start the analysis of %1</source>
        <translation>无法开始分析 %1</translation>
    </message>
    <message>
        <source>%1

Its statistics and errors would describe another model, so it was not opened.</source>
        <translation>%1

其统计数据和误差描述的是另一个模型，因此未打开。</translation>
    </message>
    <message>
        <source>Stale analysis</source>
        <translation>分析已过期</translation>
    </message>
    <message>
        <source>Analyse Again…</source>
        <translation>重新分析…</translation>
    </message>
    <message>
        <source>Cannot save the plan %1</source>
        <translation>无法保存方案 %1</translation>
    </message>
    <message>
        <source>Cannot export the figure %1</source>
        <translation>无法导出图表 %1</translation>
    </message>
    <message>
        <source>Cannot export the data %1</source>
        <translation>无法导出数据 %1</translation>
    </message>
    <message>
        <source>Cannot export the merged model</source>
        <translation>无法导出合并后的模型</translation>
    </message>
    <message>
        <source>analysing %1</source>
        <translation>正在分析 %1</translation>
    </message>
    <message>
        <source>opening %1</source>
        <translation>正在打开 %1</translation>
    </message>
    <message>
        <source>exporting to %1</source>
        <translation>正在导出到 %1</translation>
    </message>
    <message>
        <source>Ctrl+T</source>
        <translation>Ctrl+T</translation>
    </message>
    <message>
        <source>Try It</source>
        <translation>试一试</translation>
    </message>
    <message>
        <source>Try It (Generate Text)</source>
        <translation>试一试（生成文本）</translation>
    </message>
    <message>
        <source>Cannot show the analysis</source>
        <translation>无法显示分析结果</translation>
    </message>
</context>
<context>
    <name>moe::gui::PlanBar</name>
    <message>
        <source>Plan</source>
        <translation>方案</translation>
    </message>
    <message>
        <source>Uniform</source>
        <translation>统一</translation>
    </message>
    <message>
        <source>Global frequency</source>
        <translation>全局频率</translation>
    </message>
    <message>
        <source>Distance threshold</source>
        <translation>距离阈值</translation>
    </message>
    <message>
        <source>How many clusters each layer keeps: the same K everywhere, HC-SMoE&apos;s global usage-frequency rule, or one cut height for every tree</source>
        <translation>每层保留多少个簇：所有层相同的 K、HC-SMoE 的全局使用频率规则，或所有树使用同一切割高度</translation>
    </message>
    <message>
        <source>Allocation</source>
        <translation>分配</translation>
    </message>
    <message>
        <source>K</source>
        <translation>K</translation>
    </message>
    <message>
        <source>Clusters kept per layer (Ctrl+Up / Ctrl+Down)</source>
        <translation>每层保留的簇数（Ctrl+Up / Ctrl+Down）</translation>
    </message>
    <message>
        <source>Every layer&apos;s tree is cut at this merge height</source>
        <translation>每层的树都在此合并高度处切分</translation>
    </message>
    <message>
        <source>Average</source>
        <translation>平均连接</translation>
    </message>
    <message>
        <source>Single</source>
        <translation>单连接</translation>
    </message>
    <message>
        <source>Complete</source>
        <translation>全连接</translation>
    </message>
    <message>
        <source>Ward</source>
        <translation>Ward</translation>
    </message>
    <message>
        <source>Linkage of the hierarchical clustering (average is the paper&apos;s choice)</source>
        <translation>层次聚类的连接方式（论文采用平均连接）</translation>
    </message>
    <message>
        <source>Linkage</source>
        <translation>连接</translation>
    </message>
    <message>
        <source>Expert output</source>
        <translation>专家输出</translation>
    </message>
    <message>
        <source>Expert output (routed)</source>
        <translation>专家输出（仅路由词元）</translation>
    </message>
    <message>
        <source>Router logits</source>
        <translation>路由器 logits</translation>
    </message>
    <message>
        <source>Weights</source>
        <translation>权重</translation>
    </message>
    <message>
        <source>What an expert is represented by when experts are compared</source>
        <translation>比较专家时用什么来表示一个专家</translation>
    </message>
    <message>
        <source>Compare</source>
        <translation>比较</translation>
    </message>
    <message>
        <source>Euclidean</source>
        <translation>欧氏</translation>
    </message>
    <message>
        <source>Cosine</source>
        <translation>余弦</translation>
    </message>
    <message>
        <source>Distance</source>
        <translation>距离</translation>
    </message>
    <message>
        <source>Merge: frequency-weighted</source>
        <translation>合并：按频率加权</translation>
    </message>
    <message>
        <source>Merge: average</source>
        <translation>合并：平均</translation>
    </message>
    <message>
        <source>Merge: dominant expert</source>
        <translation>合并：主导专家</translation>
    </message>
    <message>
        <source>Prune: F-prune</source>
        <translation>剪枝：F-prune</translation>
    </message>
    <message>
        <source>Prune: REAP</source>
        <translation>剪枝：REAP</translation>
    </message>
    <message>
        <source>Strategy</source>
        <translation>策略</translation>
    </message>
    <message>
        <source>Height</source>
        <translation>高度</translation>
    </message>
    <message>
        <source>Mean K</source>
        <translation>平均 K</translation>
    </message>
    <message>
        <source>Merge: REAM</source>
        <translation>合并：REAM</translation>
    </message>
    <message>
        <source>Keep</source>
        <translation>保留</translation>
    </message>
    <message>
        <source>How each group becomes one expert (REAM: the K highest-REAP experts are the centroids, every other expert joins its nearest centroid)</source>
        <translation>每组如何变为一个专家（REAM：REAP 分数最高的 K 个专家作为中心，其余专家加入最近的中心）</translation>
    </message>
    <message>
        <source>Align neurons</source>
        <translation>对齐神经元</translation>
    </message>
    <message>
        <source>Permute each member&apos;s neurons onto its group&apos;s reference expert before averaging (calibration activations, one forward pass before a merge); for averaging strategies</source>
        <translation>平均前将每个成员的神经元置换到其组的参考专家上（基于校准激活，合并前进行一次前向传播）；适用于平均类策略</translation>
    </message>
</context>
<context>
    <name>moe::gui::PlanSummary</name>
    <message>
        <source>Experts kept</source>
        <translation>保留的专家</translation>
    </message>
    <message>
        <source>%1 of %2 (%3 %)</source>
        <translation>%1 / %2（%3 %）</translation>
    </message>
    <message>
        <source>Model size</source>
        <translation>模型大小</translation>
    </message>
    <message>
        <source>%1 → %2 (−%3 %)</source>
        <translation>%1 → %2（−%3 %）</translation>
    </message>
    <message>
        <source>Export format</source>
        <translation>导出格式</translation>
    </message>
    <message>
        <source>compact (K = %1 everywhere)</source>
        <translation>紧凑（所有层 K = %1）</translation>
    </message>
    <message>
        <source>expert map (K per layer)</source>
        <translation>专家映射（每层各自的 K）</translation>
    </message>
    <message>
        <source>Clustering</source>
        <translation>聚类</translation>
    </message>
    <message>
        <source>Single</source>
        <translation>单连接</translation>
    </message>
    <message>
        <source>Complete</source>
        <translation>全连接</translation>
    </message>
    <message>
        <source>Average</source>
        <translation>平均连接</translation>
    </message>
    <message>
        <source>Ward</source>
        <translation>Ward</translation>
    </message>
    <message>
        <source>Expert output</source>
        <translation>专家输出</translation>
    </message>
    <message>
        <source>Expert output (routed)</source>
        <translation>专家输出（仅路由词元）</translation>
    </message>
    <message>
        <source>Router logits</source>
        <translation>路由器 logits</translation>
    </message>
    <message>
        <source>Weights</source>
        <translation>权重</translation>
    </message>
    <message>
        <source>%1 linkage · %2 · %3</source>
        <translation>%1 · %2 · %3</translation>
    </message>
    <message>
        <source>Cosine</source>
        <translation>余弦</translation>
    </message>
    <message>
        <source>Euclidean</source>
        <translation>欧氏</translation>
    </message>
    <message>
        <source>Output error (mean, tied)</source>
        <translation>输出误差（平均，绑定）</translation>
    </message>
    <message>
        <source>Output error (estimate)</source>
        <translation>输出误差（估计）</translation>
    </message>
</context>
<context>
    <name>moe::gui::ProgressPanel</name>
    <message>
        <source>%1 s</source>
        <translation>%1 秒</translation>
    </message>
    <message>
        <source>%1 min %2 s</source>
        <translation>%1 分 %2 秒</translation>
    </message>
    <message>
        <source>%1 h %2 min</source>
        <translation>%1 小时 %2 分</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>layer %1 of %2</source>
        <translation>第 %1 层，共 %2 层</translation>
    </message>
    <message>
        <source>%1 tokens/s · elapsed %2 · about %3 left</source>
        <translation>%1 词元/秒 · 已用 %2 · 约剩 %3</translation>
    </message>
    <message>
        <source>%1 of %2 MB written</source>
        <translation>已写入 %1 / %2 MB</translation>
    </message>
    <message>
        <source>Cancelling…</source>
        <translation>正在取消…</translation>
    </message>
    <message>
        <source>layer %1 of %2 · expert %3 of %4</source>
        <translation>第 %1 层，共 %2 层 · 专家 %3 / %4</translation>
    </message>
</context>
<context>
    <name>moe::gui::SettingsDialog</name>
    <message>
        <source>Settings</source>
        <translation>设置</translation>
    </message>
    <message>
        <source>System default</source>
        <translation>跟随系统</translation>
    </message>
    <message>
        <source>Language:</source>
        <translation>语言：</translation>
    </message>
    <message>
        <source>Calibration sequences:</source>
        <translation>校准序列数：</translation>
    </message>
    <message>
        <source>Sequence length:</source>
        <translation>序列长度：</translation>
    </message>
    <message>
        <source>Device:</source>
        <translation>设备：</translation>
    </message>
    <message>
        <source>Held-out text for perplexity and KL (JSON lines, plain text, .npy or FILE.h5:DATASET); empty: the demo&apos;s evaluation text</source>
        <translation>用于困惑度和 KL 的留出文本（JSON lines、纯文本、.npy 或 FILE.h5:DATASET）；留空：使用演示的评估文本</translation>
    </message>
    <message>
        <source>Evaluation text:</source>
        <translation>评估文本：</translation>
    </message>
    <message>
        <source>Evaluation sequences:</source>
        <translation>评估序列数：</translation>
    </message>
    <message>
        <source>Evaluation length:</source>
        <translation>评估序列长度：</translation>
    </message>
    <message>
        <source>off</source>
        <translation>关闭</translation>
    </message>
    <message>
        <source>Measure also free-running agreement: greedy continuations of this many held-out prefixes by the original and the merged model (identical prefix, ROUGE-L); 0: off</source>
        <translation>同时测量自由生成一致性：原始模型与合并模型对这么多个留出前缀进行贪心续写（相同前缀、ROUGE-L）；0：关闭</translation>
    </message>
    <message>
        <source>Generation prompts:</source>
        <translation>生成提示数：</translation>
    </message>
</context>
<context>
    <name>moe::gui::TryItPanel</name>
    <message>
        <source>Original</source>
        <translation>原始模型</translation>
    </message>
    <message>
        <source>Merged (tied)</source>
        <translation>合并（共享路由）</translation>
    </message>
    <message>
        <source>Merged (compact)</source>
        <translation>合并（紧凑）</translation>
    </message>
    <message>
        <source>One prompt per paragraph; a blank line separates prompts</source>
        <translation>每段一个提示词；用空行分隔提示词</translation>
    </message>
    <message>
        <source>Load prompts…</source>
        <translation>加载提示词…</translation>
    </message>
    <message>
        <source>Prompts from a JSON-lines file (its &quot;text&quot; field) or a plain-text file (blank-line separated paragraphs)</source>
        <translation>从 JSON Lines 文件（其 &quot;text&quot; 字段）或纯文本文件（以空行分隔的段落）读取提示词</translation>
    </message>
    <message>
        <source>Max new tokens</source>
        <translation>最多新词元数</translation>
    </message>
    <message>
        <source>Temperature</source>
        <translation>温度</translation>
    </message>
    <message>
        <source>0: greedy decoding</source>
        <translation>0：贪心解码</translation>
    </message>
    <message>
        <source>Top-p</source>
        <translation>Top-p</translation>
    </message>
    <message>
        <source>Seed</source>
        <translation>随机种子</translation>
    </message>
    <message>
        <source>Seed of the sampler (with a temperature above 0)</source>
        <translation>采样器的随机种子（温度大于 0 时）</translation>
    </message>
    <message>
        <source>SCMoE (contrast with a weak routing)</source>
        <translation>SCMoE（与弱路由对比）</translation>
    </message>
    <message>
        <source>Self-contrast decoding (Shi et al., 2024): scores = log p_strong + beta (log p_strong - log p_weak), over the tokens at least alpha times as likely as the best one</source>
        <translation>自对比解码（Shi 等，2024）：分数 = log p_strong + beta (log p_strong - log p_weak)，仅在概率至少为最佳词元 alpha 倍的词元中选择</translation>
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
        <translation>弱路由</translation>
    </message>
    <message>
        <source>top-k</source>
        <translation>top-k</translation>
    </message>
    <message>
        <source>rank</source>
        <translation>排名</translation>
    </message>
    <message>
        <source>Merged variants of the current plan (tied and compact)</source>
        <translation>当前方案的合并变体（共享路由与紧凑）</translation>
    </message>
    <message>
        <source>Generate</source>
        <translation>生成</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Load Prompts</source>
        <translation>加载提示词</translation>
    </message>
    <message>
        <source>Prompts (*.jsonl *.json *.txt);;All files (*)</source>
        <translation>提示词 (*.jsonl *.json *.txt);;所有文件 (*)</translation>
    </message>
    <message numerus="yes">
        <source>Loaded %n prompt(s) from %1</source>
        <translation>
            <numerusform>已从 %1 加载 %n 个提示词</numerusform>
        </translation>
    </message>
    <message>
        <source>Open a model or an analysis first: the panel generates with its model.</source>
        <translation>请先打开模型或分析：本面板使用其模型生成文本。</translation>
    </message>
    <message>
        <source>Type at least one prompt (a blank line separates prompts).</source>
        <translation>请至少输入一个提示词（用空行分隔提示词）。</translation>
    </message>
    <message>
        <source>The current plan cannot be merged: %1</source>
        <translation>当前方案无法合并：%1</translation>
    </message>
    <message>
        <source>generating text</source>
        <translation>正在生成文本</translation>
    </message>
    <message>
        <source>Loading the model and the tokenizer…</source>
        <translation>正在加载模型和分词器…</translation>
    </message>
    <message>
        <source>Cancelling…</source>
        <translation>正在取消…</translation>
    </message>
    <message>
        <source>Prompt %1: %2</source>
        <translation>提示词 %1：%2</translation>
    </message>
    <message numerus="yes">
        <source>Generating %n token(s) per prompt…</source>
        <translation>
            <numerusform>正在为每个提示词生成 %n 个词元…</numerusform>
        </translation>
    </message>
    <message>
        <source>From token %1 on, this continuation differs from the original&apos;s</source>
        <translation>从第 %1 个词元起，此续写与原始模型的不同</translation>
    </message>
    <message>
        <source>end of text</source>
        <translation>文本结束</translation>
    </message>
    <message>
        <source>reference · %1 tokens/s</source>
        <translation>参照 · %1 词元/秒</translation>
    </message>
    <message>
        <source>same prefix %1 tokens · ROUGE-L %2 · %3 tokens/s</source>
        <translation>相同前缀 %1 个词元 · ROUGE-L %2 · %3 词元/秒</translation>
    </message>
    <message>
        <source>Done in %1 s.</source>
        <translation>完成，用时 %1 秒。</translation>
    </message>
    <message>
        <source>Generation cancelled.</source>
        <translation>生成已取消。</translation>
    </message>
    <message>
        <source>Generation failed: %1</source>
        <translation>生成失败：%1</translation>
    </message>
    <message>
        <source>top-k: the block&apos;s top-k cut to this many experts; rank: only the expert the router ranks at this place</source>
        <translation>top-k：将该块的 top-k 截为此数量的专家；排名：只用路由器排在此名次的专家</translation>
    </message>
</context>
<context>
    <name>moe::gui::WelcomePage</name>
    <message>
        <source>See how redundant a Mixture-of-Experts model&apos;s experts are, cut the dendrograms layer by layer, and merge them with HC-SMoE.</source>
        <translation>查看混合专家模型中专家的冗余程度，逐层切分树状图，并用 HC-SMoE 合并专家。</translation>
    </message>
    <message>
        <source>Explore the demo model</source>
        <translation>探索演示模型</translation>
    </message>
    <message>
        <source>A small Mixtral-style model with 16 experts per layer, bundled with MoEScope</source>
        <translation>MoEScope 自带的小型 Mixtral 风格模型，每层 16 个专家</translation>
    </message>
    <message>
        <source>Open Model…</source>
        <translation>打开模型…</translation>
    </message>
    <message>
        <source>Analyse a Hugging Face checkpoint folder</source>
        <translation>分析 Hugging Face 检查点文件夹</translation>
    </message>
    <message>
        <source>Open Analysis…</source>
        <translation>打开分析…</translation>
    </message>
    <message>
        <source>Reopen a saved analysis (.h5)</source>
        <translation>重新打开已保存的分析 (.h5)</translation>
    </message>
    <message>
        <source>Tip: drop a model folder or an analysis file on this window.</source>
        <translation>提示：可将模型文件夹或分析文件拖放到此窗口。</translation>
    </message>
    <message>
        <source>Recent</source>
        <translation>最近</translation>
    </message>
    <message>
        <source>No recent models or analyses</source>
        <translation>没有最近打开的模型或分析</translation>
    </message>
</context>
<context>
    <name>moe::widgets::ClusterColoring</name>
    <message>
        <source>grey: %1</source>
        <translation>灰色：%1</translation>
    </message>
    <message numerus="yes">
        <source>%n singletons</source>
        <translation>
            <numerusform>%n 个单专家簇</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n small clusters</source>
        <translation>
            <numerusform>%n 个小簇</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>pale: %n dropped</source>
        <translation>
            <numerusform>浅色：%n 个被丢弃</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>moe::widgets::DendrogramView</name>
    <message>
        <source>merge height</source>
        <translation>合并高度</translation>
    </message>
    <message>
        <source>expert (usage %)</source>
        <translation>专家（使用率 %）</translation>
    </message>
    <message>
        <source>K = %1</source>
        <translation>K = %1</translation>
    </message>
    <message>
        <source>Expert %1</source>
        <translation>专家 %1</translation>
    </message>
    <message numerus="yes">
        <source>%n experts: %1</source>
        <translation>
            <numerusform>%n 个专家：%1</numerusform>
        </translation>
    </message>
    <message>
        <source>Merge height: %1</source>
        <translation>合并高度：%1</translation>
    </message>
    <message>
        <source>Usage: %1 %</source>
        <translation>使用率：%1 %</translation>
    </message>
    <message>
        <source>Fit whole tree</source>
        <translation>显示整棵树</translation>
    </message>
    <message>
        <source>Fold all clusters</source>
        <translation>折叠所有簇</translation>
    </message>
    <message>
        <source>Horizontal layout</source>
        <translation>水平布局</translation>
    </message>
    <message>
        <source>Folded cluster (click to unfold)</source>
        <translation>已折叠的簇（点击展开）</translation>
    </message>
    <message>
        <source>Unfold this cluster</source>
        <translation>展开此簇</translation>
    </message>
    <message>
        <source>Fold this cluster</source>
        <translation>折叠此簇</translation>
    </message>
</context>
<context>
    <name>moe::widgets::HeatmapControls</name>
    <message>
        <source>Clusters</source>
        <translation>簇</translation>
    </message>
    <message>
        <source>One cell per pair of clusters: the mean value between their experts</source>
        <translation>每对簇一个单元格：两簇专家之间的平均值</translation>
    </message>
    <message>
        <source>Fit</source>
        <translation>适应窗口</translation>
    </message>
    <message>
        <source>Show the whole matrix (wheel or +/- zoom, drag or arrow keys pan, double-click or Home fits)</source>
        <translation>显示整个矩阵（滚轮或 +/- 缩放，拖动或方向键平移，双击或 Home 复位）</translation>
    </message>
</context>
<context>
    <name>moe::widgets::HeatmapView</name>
    <message>
        <source>expert</source>
        <translation>专家</translation>
    </message>
    <message>
        <source>Expert %1 ↔ expert %2</source>
        <translation>专家 %1 ↔ 专家 %2</translation>
    </message>
    <message>
        <source>%1: %2</source>
        <translation>%1：%2</translation>
    </message>
    <message>
        <source>Value</source>
        <translation>值</translation>
    </message>
    <message>
        <source>Usage: %1 % / %2 %</source>
        <translation>使用率：%1 % / %2 %</translation>
    </message>
    <message>
        <source>c%1</source>
        <translation>簇%1</translation>
    </message>
    <message>
        <source>Mean %1: %2</source>
        <translation>平均%1：%2</translation>
    </message>
    <message>
        <source>%1 and %2 experts</source>
        <translation>%1 个和 %2 个专家</translation>
    </message>
    <message>
        <source>dropped</source>
        <translation>丢弃</translation>
    </message>
    <message>
        <source>dropped experts</source>
        <translation>被丢弃的专家</translation>
    </message>
    <message>
        <source>cluster %1</source>
        <translation>簇 %1</translation>
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
        <translation>保留的簇数 (K)</translation>
    </message>
    <message>
        <source>layer</source>
        <translation>层</translation>
    </message>
    <message>
        <source>cut height / top merge</source>
        <translation>切分高度 / 最高合并</translation>
    </message>
    <message>
        <source>Layer %1 · %2 experts · chosen K %3</source>
        <translation>第 %1 层 · %2 个专家 · 选定 K %3</translation>
    </message>
    <message>
        <source>K = %1: cut at %2 % of the top merge</source>
        <translation>K = %1：在最高合并的 %2 % 处切分</translation>
    </message>
</context>
<context>
    <name>moe::widgets::LayerTable</name>
    <message>
        <source>Layer</source>
        <translation>层</translation>
    </message>
    <message>
        <source>Experts</source>
        <translation>专家数</translation>
    </message>
    <message>
        <source>K</source>
        <translation>K</translation>
    </message>
    <message>
        <source>Memory</source>
        <translation>内存</translation>
    </message>
    <message>
        <source>Error</source>
        <translation>误差</translation>
    </message>
    <message>
        <source>Usage</source>
        <translation>使用率</translation>
    </message>
    <message>
        <source>Parameter memory of the layer after merging</source>
        <translation>合并后该层参数占用的内存</translation>
    </message>
    <message>
        <source>%1 (dense)</source>
        <translation>%1（稠密）</translation>
    </message>
    <message>
        <source>Set for this layer (overrides the global allocation)</source>
        <translation>为本层单独设置（覆盖全局分配）</translation>
    </message>
    <message>
        <source>Relative L2 error of the merged block&apos;s output against the original block on calibration tokens (tied semantics). Values marked ≈ are estimates from the experts&apos; mean outputs, shown until the exact value is computed.</source>
        <translation>合并后模块的输出相对原始模块在校准词元上的相对 L2 误差（绑定语义）。标有 ≈ 的值是由专家平均输出得到的估计值，在精确值算出前显示。</translation>
    </message>
    <message>
        <source>Red.</source>
        <translation>冗余</translation>
    </message>
    <message>
        <source>Skew</source>
        <translation>偏斜</translation>
    </message>
    <message>
        <source>Redundancy: 1 − mean distance from each expert to its nearest other expert / mean distance between experts. Near 1: experts have close twins and merge cheaply; near 0: evenly spread.</source>
        <translation>冗余度：1 − 每个专家到最近其他专家的平均距离 / 专家间平均距离。接近 1：专家有相近的“孪生”，合并代价低；接近 0：分布均匀。</translation>
    </message>
    <message>
        <source>Usage skew: 1 − normalised entropy of the usage frequencies. 0: every expert used equally; 1: one expert takes every selection.</source>
        <translation>使用偏斜：1 − 使用频率的归一化熵。0：所有专家使用均等；1：一个专家承担全部选择。</translation>
    </message>
    <message>
        <source>Usage frequency of each expert, in dendrogram order (sorts by usage skew)</source>
        <translation>各专家的使用频率，按树状图顺序（按使用偏斜排序）</translation>
    </message>
    <message>
        <source>%1 (pending)</source>
        <translation>%1（待分析）</translation>
    </message>
</context>
<context>
    <name>moe::widgets::TradeoffPlot</name>
    <message>
        <source>uniform K</source>
        <translation>统一 K</translation>
    </message>
    <message>
        <source>current plan</source>
        <translation>当前方案</translation>
    </message>
    <message>
        <source>memory</source>
        <translation>内存</translation>
    </message>
    <message>
        <source>error</source>
        <translation>误差</translation>
    </message>
    <message>
        <source>plan</source>
        <translation>方案</translation>
    </message>
    <message>
        <source>measured (tied)</source>
        <translation>已测量（绑定）</translation>
    </message>
    <message>
        <source>measured (compact)</source>
        <translation>已测量（紧凑）</translation>
    </message>
</context>
<context>
    <name>moe::widgets::UsageChart</name>
    <message>
        <source>usage %</source>
        <translation>使用率 %</translation>
    </message>
    <message>
        <source>REAP score</source>
        <translation>REAP 分数</translation>
    </message>
    <message>
        <source>expert</source>
        <translation>专家</translation>
    </message>
    <message>
        <source>usage frequency</source>
        <translation>使用频率</translation>
    </message>
    <message>
        <source>Expert %1</source>
        <translation>专家 %1</translation>
    </message>
    <message>
        <source>Usage: %1 %</source>
        <translation>使用率：%1 %</translation>
    </message>
    <message>
        <source>REAP score: %1</source>
        <translation>REAP 分数：%1</translation>
    </message>
    <message>
        <source>top %1 of %2 experts by REAP score</source>
        <translation>按 REAP 分数前 %1 个（共 %2 个专家）</translation>
    </message>
    <message>
        <source>top %1 of %2 experts by usage</source>
        <translation>按使用率前 %1 个（共 %2 个专家）</translation>
    </message>
    <message numerus="yes">
        <source>%n hidden</source>
        <translation>
            <numerusform>已隐藏 %n 个</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>moe::widgets::UsageChartControls</name>
    <message>
        <source>Dendrogram order</source>
        <translation>树状图顺序</translation>
    </message>
    <message>
        <source>By usage</source>
        <translation>按使用率</translation>
    </message>
    <message>
        <source>By REAP score</source>
        <translation>按 REAP 分数</translation>
    </message>
    <message>
        <source>Order of the bars</source>
        <translation>柱条顺序</translation>
    </message>
    <message>
        <source>top </source>
        <translation>前 </translation>
    </message>
    <message>
        <source>all experts</source>
        <translation>全部专家</translation>
    </message>
    <message>
        <source>Show only this many experts, those used most (or with the highest REAP score when sorted by it); 0 shows all</source>
        <translation>只显示这么多个专家：使用最多的（按 REAP 排序时为 REAP 分数最高的）；0 显示全部</translation>
    </message>
</context>
</TS>
