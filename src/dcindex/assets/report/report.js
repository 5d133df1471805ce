/* dcindex report: renders the page from the JSON embedded in <script id="dc-data">.
 * Safety: every string from the data is put into the page with textContent / createTextNode or drawn on a
 * canvas by ECharts; tooltips are DOM nodes built the same way. Nothing here uses innerHTML, eval or the
 * network. */
(function () {
  'use strict';
  var D = JSON.parse(document.getElementById('dc-data').textContent);
  var E = window.echarts;
  var YEARS = D.years, T = YEARS.length, CODES = D.units.codes, N = CODES.length;
  var NODE = {}; D.nodes.forEach(function (n) { NODE[n.code] = n; });
  var IDX = {}; CODES.forEach(function (c, i) { IDX[c] = i; });
  var PAL = ['#3360a9', '#c15065', '#2c8465', '#be5915', '#6d3e91', '#00847e', '#8c4569', '#b16214', '#4c6a9c',
    '#883039', '#578145', '#9a5129'];
  var SEQ = ['#f3f7fb', '#dbe8f3', '#bcd4ea', '#93badd', '#679dcc', '#4080ba', '#2565a3', '#144c86', '#0b3463'];
  var LISA = { HH: '#c0392b', LL: '#2e6db4', HL: '#f0a58f', LH: '#9cc3e6', ns: '#e5e2dc' };
  var FONT = getComputedStyle(document.documentElement).getPropertyValue('--sans') || 'sans-serif';

  /* ----------------------------------------------------------------------------------- i18n */
  var L = {
    brand: ['dcindex 报告', 'dcindex report'],
    brand_sub: ['指数报告', 'Index report'],
    units_n: ['{0} 个单元', '{0} units'],
    ind_n: ['{0} 项指标 · {1} 个维度', '{0} indicators in {1} pillars'], version: ['dcindex {0}', 'dcindex {0}'],
    findings: ['要点', 'Key findings'],
    nav_rank: ['排名', 'Ranking'], nav_map: ['地图', 'Map'], nav_trend: ['排名变化', 'Over time'],
    nav_pattern: ['区域格局', 'Regional pattern'], nav_unc: ['不确定性与审计', 'Uncertainty & audit'],
    nav_explain: ['解释', 'Explanation'], nav_fw: ['指标体系', 'Framework'], nav_quality: ['数据质量', 'Data quality'],
    nav_method: ['方法与来源', 'Methods & provenance'], nav_plan: ['算力布局', 'Compute plan'],
    year: ['年份', 'Year'], node: ['指标', 'Measure'], grouping: ['分组', 'Grouping'], none: ['无', 'none'],
    search: ['搜索单元…', 'Search units…'], all_groups: ['全部', 'All'],
    rank_h: ['{0}年排名', 'Ranking, {0}'],
    rank_lede: ['点击列标题排序，点击单元名称查看其档案。箭头表示与上一年相比的名次变化。带标记的数值包含插补或经过处理的数据。',
      'Click a column heading to sort and a name to open its profile. Arrows show the change in rank since the previous year. Marked rows contain imputed or treated values.'],
    col_rank: ['名次', 'Rank'], col_chg: ['变化', 'Change'], col_unit: ['单元', 'Unit'], col_group: ['分组', 'Group'],
    col_score: ['得分', 'Score'], col_ci: ['名次区间', 'Rank interval'], col_pub: ['相对原排名', 'vs published'],
    new_entry: ['新', 'new'], flags_title: ['{0} 个插补值，{1} 个处理值', '{0} imputed, {1} treated value(s)'],
    rw_h: ['调整维度权重', 'Re-weight the pillars'],
    rw_lede: ['拖动滑块，指数和排名会即时重新计算。', 'Move a slider: the index and the ranks are recomputed at once.'],
    rw_exact: ['精确：与按这些权重重新构建（{0}聚合）的结果一致', 'Exact: equals a rebuild with these weights ({0} aggregation)'],
    rw_approx: ['算术近似：原方法为 {0}，此处按加权算术平均重新计算', 'Arithmetic approximation: the recipe aggregates by {0}; here the pillars are re-averaged arithmetically'],
    rw_reset: ['恢复原权重', 'Reset'], rw_equal: ['等权', 'Equal'],
    rw_status_pub: ['显示：原始发布结果', 'Showing: the published result'],
    rw_status_new: ['显示：按新权重重新计算的结果（{0} 个单元名次变化）', 'Showing: re-weighted result ({0} units change rank)'],
    map_h: ['地图', 'Map'],
    map_lede: ['颜色越深得分越高。粗线为所选分组的边界；滚轮缩放、拖动平移，点击区域查看档案。',
      'Darker means a higher score. Thick lines outline the chosen grouping; scroll to zoom, drag to pan, click a region for its profile.'],
    map_none: ['无地图：单元代码不是中国行政区划代码（GB/T 2260 六位码），无法匹配边界。',
      'No map: the unit codes are not Chinese administrative codes (6-digit GB/T 2260), so no boundaries can be matched.'],
    map_nogeo: ['无地图：本安装中没有边界数据（dcindex/data/china）。', 'No map: boundary data (dcindex/data/china) is not installed.'],
    map_err: ['地图数据无法读取：{0}', 'The map data could not be read: {0}'],
    map_cov: ['{0} / {1} 个单元有边界', '{0} of {1} units have boundaries'],
    map_src: ['边界：echarts@4.9.0 中国地图（Apache-2.0），经简化；非审图号地图。', 'Boundaries: China map of echarts@4.9.0 (Apache-2.0), simplified; not an officially approved map (no map approval number).'],
    outline: ['边界线', 'Outlines'], no_data: ['无数据', 'no data'],
    trend_h: ['排名变化', 'Ranks over time'],
    trend_lede: ['每条线是一个单元的名次轨迹；彩色为最新一年排名前十的单元。输入名称可高亮任一单元。',
      'Each line follows one unit’s rank; coloured lines are the latest top ten. Type a name to highlight any unit.'],
    trend_one: ['只有一年的数据，无法显示排名变化。', 'The data cover a single year, so there is no change over time to show.'],
    highlight: ['高亮单元…', 'Highlight a unit…'],
    trend_big: ['共 {0} 个单元：图中显示最新一年的前 15 名（前 30 名次范围）及所选单元。', '{0} units: the chart shows the latest top 15 (ranks 1–30) and the highlighted unit.'],
    pat_h: ['区域格局', 'Regional pattern'],
    pat_lede: ['分组差距、不平等及其分解、分布演变、空间集聚和类别转移——均来自 dcindex pattern 的输出。',
      'Gaps between groups, inequality and its decomposition, the shape of the distribution, spatial clustering and class mobility — all from dcindex pattern’s output.'],
    pat_absent: ['本结果目录中没有区域格局分析（pattern/）。运行 <dcindex run> 或 <dcindex pattern> 生成。',
      'This result folder has no regional pattern analysis (pattern/). Run ‘dcindex run’ or ‘dcindex pattern’ to produce it.'],
    grad_h: ['分组均值', 'Group means'], grad_sub: ['各组{0}的平均得分', 'Mean {0} by group'],
    gaps_h: ['组间差距趋势', 'Gap trends'], gaps_h1: ['{0}年组间差距', 'Gaps between groups, {0}'],
    gap_pts: ['差距（分）', 'Gap (points)'], gap_ratio: ['倍数', 'Ratio'],
    ineq_h: ['不平等', 'Inequality'], ineq_sub: ['基尼系数与泰尔指数（未加权）', 'Gini and Theil indices (unweighted)'],
    dagum_h: ['Dagum 基尼分解', 'Dagum Gini decomposition'],
    dagum_sub: ['总体基尼 = 组内 + 组间净差 + 超变密度', 'Overall Gini = within + net between + transvariation'],
    Gw: ['组内', 'Within groups'], Gnb: ['组间净差', 'Net between groups'], Gt: ['超变密度', 'Transvariation'], G: ['总体基尼', 'Overall Gini'],
    kde_h: ['分布演变', 'Distribution over time'], kde_sub: ['各年得分的核密度估计', 'Kernel density of scores, by year'],
    moran_h: ['Moran 散点图', 'Moran scatter plot'],
    moran_sub: ['{0}年：标准化得分与其空间滞后；斜率即 Moran\'s I = {1}（p = {2}）', '{0}: standardised score against its spatial lag; the slope is Moran’s I = {1} (p = {2})'],
    lisa_h: ['LISA 集聚图', 'LISA cluster map'], lisa_absent: ['该指标没有计算局部空间统计（LISA）。', 'Local statistics (LISA) were not computed for this measure.'],
    moran_t_h: ['全局 Moran\'s I', 'Global Moran’s I'], moran_t_sub: ['各年空间自相关；深色点 p ≤ 0.05', 'Spatial autocorrelation by year; dark points p ≤ 0.05'], lisa_sub: ['{0}年，显著性水平 0.05', '{0}, significance level 0.05'],
    HH: ['高-高', 'High-High'], LL: ['低-低', 'Low-Low'], HL: ['高-低', 'High-Low'], LH: ['低-高', 'Low-High'], ns: ['不显著', 'Not significant'],
    spatial_absent: ['没有空间分析结果（需要空间权重）。', 'No spatial analysis in the results (it needs spatial weights).'],
    markov_h: ['马尔可夫转移概率', 'Markov transition probabilities'],
    markov_sub: ['相对得分四分位类别之间的年度转移；Shorrocks 流动性 = {0}', 'Year-to-year moves between quantile classes of relative scores; Shorrocks mobility = {0}'],
    markov_one: ['需要多年数据。', 'Needs more than one year.'],
    cls: ['第{0}类', 'Class {0}'], from_cls: ['起始类别', 'From class'], to_cls: ['目标类别', 'To class'],
    per_year: ['年均变化 [95% 置信区间]', 'Change per year [95% CI]'],
    unc_h: ['不确定性与审计', 'Uncertainty and audit'],
    unc_lede: ['排名对方法选择有多敏感，以及统计审计发现的问题。', 'How sensitive the ranks are to methodological choices, and what the statistical audit found.'],
    unc_absent: ['本结果目录中没有不确定性分析（uncertainty/）：排名区间、须图和超越概率暂缺。',
      'This result folder has no uncertainty analysis (uncertainty/): rank intervals, whiskers and overtake probabilities are not available.'],
    audit_absent: ['本结果目录中没有统计审计（audit/）。', 'This result folder has no statistical audit (audit/).'],
    cap_files: ['{0}/ 中的结果（尚无专门视图）：', 'Results in {0}/ (no dedicated view yet):'],
    fw_h: ['指标体系与权重', 'Framework and weights'],
    fw_lede: ['名义权重为指标体系中声明的权重；有效权重为该节点在总指数中的份额（沿路径相乘）。“实际”为构建中使用的权重（数据驱动方法时可能不同）。',
      'Nominal weights are those declared in the framework; the effective weight is the node’s share of the index (the product along its path). “Used” is what the build actually applied (differs for data-driven weighting).'],
    fw_sun: ['各部分在总指数中的份额', 'What the index is made of'],
    fw_sun_sub: ['扇区大小 = 实际有效权重；内圈为维度，外圈为指标', 'Sector size = effective weight as used; inner ring pillars, outer ring indicators'],
    fw_node: ['节点', 'Node'], fw_w: ['父节点内权重', 'Weight in parent'], fw_eff: ['有效权重（名义 / 实际）', 'Effective weight (nominal / used)'],
    fw_method: ['加权方法', 'Weighting'], fw_dir: ['方向', 'Direction'], fw_unit: ['单位', 'Unit'], fw_src: ['来源', 'Source'],
    q_h: ['数据质量', 'Data quality'],
    q_lede: ['插补和异常值处理改变了以下数值；它们在排名表（⚑）和单元档案中都有标记。',
      'Imputation and outlier treatment changed the values below; they are flagged in the ranking table (⚑) and in the unit profiles.'],
    q_counts: ['共 {0} 个数据格：原始缺失 {1}，插补 {2}，处理 {3}。', '{0} cells: {1} missing in the input, {2} imputed, {3} treated.'],
    q_none: ['没有插补或处理过的数值。', 'No value was imputed or treated.'],
    q_points: ['缩尾点数', 'Points'], q_skew: ['偏度', 'Skewness'], q_kurt: ['峰度', 'Kurtosis'],
    loo_mean: ['平均名次变化', 'Mean rank shift'], loo_max: ['最大名次变化', 'Largest rank shift'],
    q_cells: ['被标记的数据格', 'Flagged cells'], q_treat: ['各指标的异常值处理', 'Outlier treatment by indicator'],
    col_year: ['年份', 'Year'], col_ind: ['指标', 'Indicator'], col_orig: ['原值', 'Original'], col_used: ['使用值', 'Used'],
    col_flag: ['标记', 'Flag'], imputed: ['插补', 'imputed'], treated: ['处理', 'treated'],
    m_h: ['方法与来源', 'Methods and provenance'],
    m_lede: ['复现本结果所需的一切：配方、输入文件指纹和软件版本。', 'Everything needed to reproduce this result: the recipe, fingerprints of the inputs and the software version.'],
    m_recipe: ['配方', 'Recipe'], m_inputs: ['输入与指纹', 'Inputs and fingerprints'], m_warn: ['构建警告', 'Build warnings'],
    m_version: ['dcindex 版本', 'dcindex version'], m_fp: ['数据指纹', 'Data fingerprint'], m_scores: ['得分 sha256', 'Scores sha256'],
    m_repro: ['复现检查', 'Reproduction check'], m_repro_ok: ['从保存的输入重新构建，得分逐位一致。', 'Rebuilt from the saved inputs: scores identical bit for bit.'],
    m_repro_bad: ['从保存的输入重新构建，得分与记录不一致（记录于 dcindex {0}）。', 'Rebuilding from the saved inputs did NOT reproduce the recorded scores (recorded with dcindex {0}).'],
    m_licence: ['软件与许可', 'Software and licences'],
    m_lic_text: ['图表由 Apache ECharts 5.6.0（Apache-2.0，内嵌）绘制；地图边界来自 echarts@4.9.0（Apache-2.0）。本文件离线可用，不发出任何网络请求。',
      'Charts drawn with Apache ECharts 5.6.0 (Apache-2.0, embedded); map boundaries from echarts@4.9.0 (Apache-2.0). This file works offline and makes no network requests.'],
    step_denominate: ['分母处理', 'Denominators'], step_impute: ['缺失值插补', 'Imputation'], step_screen: ['筛选', 'Screening'],
    step_treat: ['异常值处理', 'Outlier treatment'], step_normalise: ['标准化', 'Normalisation'], step_weights: ['加权', 'Weighting'],
    step_aggregate: ['聚合', 'Aggregation'],
    plan_h: ['算力布局方案', 'Compute layout plan'], plan_absent: ['未提供算力布局结果（--plan DIR）。', 'No compute plan was given (--plan DIR).'],
    flow_h: ['算力流向', 'Compute flows'], util_h: ['利用率', 'Utilisation'], frontier_h: ['成本-碳排放前沿', 'Cost–carbon frontier'],
    installed: ['已建机架', 'Installed racks'], used: ['使用', 'Used'], idle: ['闲置', 'Idle'],
    prof_back: ['← 返回报告', '← Back to the report'], prof_rank: ['名次', 'Rank'], prof_score: ['得分', 'Score'],
    prof_of: ['共 {0}', 'of {0}'], prof_radar: ['各维度得分', 'Pillar scores'], prof_median: ['全体中位数', 'Median of all units'],
    prof_groupmean: ['{0}均值', '{0} mean'],
    prof_strengths: ['优势指标', 'Strengths'], prof_weak: ['短板指标', 'Weaknesses'],
    prof_wf: ['得分变化分解', 'What changed the score'], prof_wf_sub: ['{0}→{1}年，各维度对总分变化的贡献', 'Contribution of each pillar to the change in the score, {0}→{1}'],
    prof_wf_one: ['只有一年的数据。', 'Single year: nothing to compare.'],
    prof_wf_rest: ['非线性余项', 'Non-linear remainder'], prof_start: ['{0}年', '{0}'],
    prof_trend: ['历年得分与名次', 'Score and rank over the years'],
    prof_table: ['全部指标', 'All indicators'], col_value: ['数值', 'Value'], col_norm: ['标准化得分', 'Normalised'],
    prof_prev: ['← 上一名', '← Previous rank'], prof_next: ['下一名 →', 'Next rank →'],
    prof_unknown: ['没有这个单元：{0}', 'No such unit: {0}'],
    rank_of: ['第 {0} 名', 'rank {0}'],
    f_leader: ['{0}年{1}排名第一（{2}分），{3}排名末位（{4}分）。', '{1} ranks first in {0} with {2}; {3} is last with {4}.'],
    f_climb: ['{0}年以来进步最大：{1}上升 {2} 位；{3}下降 {4} 位。', 'Biggest climber since {0}: {1}, up {2} places; biggest faller: {3}, down {4}.'],
    f_gap: ['按{0}：{1}平均 {2} 分，是{3}（{4} 分）的 {5} 倍。', 'By {0}: {1} averages {2}, {5} times {3} ({4}).'],
    f_gini: ['基尼系数从 {0}年的 {1} {2}至 {3}年的 {4}。', 'The Gini coefficient {2} from {1} in {0} to {4} in {3}.'],
    f_rise: ['上升', 'rose'], f_fall: ['下降', 'fell'], f_flat: ['基本不变', 'was flat'],
    f_dagum: ['{0}年，组间净差贡献了总体不平等的 {1}（按{2}分组）。', 'In {0}, net differences between groups ({2}) account for {1} of overall inequality.'],
    f_moran: ['{0}年 Moran\'s I = {1}（p = {2}）：{3}', 'Moran’s I in {0} = {1} (p = {2}): {3}'],
    f_cluster: ['相邻单元得分相近，存在空间集聚。', 'neighbours score alike — the pattern is spatially clustered.'],
    f_nocluster: ['没有显著的空间集聚。', 'no significant spatial clustering.'],
    f_flags: ['{0} 个数值为插补，{1} 个经过异常值处理，均已标记。', '{0} values are imputed and {1} treated for outliers; all are flagged.'],
    f_warn: ['构建产生了 {0} 条警告（见“方法与来源”）。', 'The build raised {0} warning(s) (see Methods & provenance).'],
    footer: ['由 dcindex {0} 生成。所有数据均嵌入本文件。', 'Generated by dcindex {0}. All data are embedded in this file.'],
    up: ['上升', 'up'], down: ['下降', 'down'], nochg: ['不变', 'unchanged'],
    direction_pos: ['正向 ↑', 'positive ↑'], direction_neg: ['逆向 ↓', 'negative ↓'],
    pillars: ['维度', 'Pillars'], median: ['中位数', 'median'],
    absent_generic: ['{0}：本结果中没有。', '{0}: not in this result.'],
    err_read: ['无法读取：{0}', 'Could not be read: {0}'],
    unc_whisk_h: ['排名的不确定性', 'How certain is each rank?'],
    unc_whisk_sub: ['{0}年：横线为蒙特卡洛抽样中 5%–95% 的名次区间，圆点为中位数，菱形为发布名次', '{0}: lines span the 5–95% rank range over the Monte Carlo draws, dots are medians, diamonds the published ranks'],
    unc_top: ['（显示发布名次前 {0} 的单元）', '(showing the published top {0})'],
    unc_pairs_h: ['谁排在谁前面', 'Who ranks above whom'],
    unc_pairs_sub: ['{0}年：行单元排在列单元之前的概率', '{0}: probability that the row unit ranks above the column unit'],
    unc_over_h: ['谁超越了谁', 'Who overtook whom'],
    unc_over_sub: ['{0}→{1}年，超越概率至少 50% 的单元对', '{0}→{1}: pairs where one unit overtook the other with probability ≥ 50%'],
    unc_over_row: ['{0} 超越 {1}', '{0} overtook {1}'], unc_over_none: ['没有概率超过 50% 的超越。', 'No overtaking is more likely than not.'],
    unc_sens_h: ['哪个方法选择最重要', 'Which choice matters most'],
    unc_sens_sub: ['Sobol 敏感性指数（目标：平均名次绝对变化）：一阶 S1 与总效应 ST', 'Sobol sensitivity indices (target: mean absolute rank shift): first-order S1 and total ST'],
    unc_stale: ['注意：该不确定性分析记录的是另一次构建的得分（sha256 不一致）。', 'Caution: this uncertainty analysis was run on a different build (scores sha256 differs).'],
    audit_h: ['统计审计', 'Statistical audit'],
    audit_stale: ['注意：该审计记录的是另一次构建的得分（sha256 不一致）。', 'Caution: this audit was run on a different build (scores sha256 differs).'],
    audit_none: ['审计没有发现问题。', 'The audit found no problems.'],
    audit_loo_h: ['去掉一项会怎样', 'Leave one out'],
    audit_loo_sub: ['去掉该节点（其余权重按比例放大）后名次的平均绝对变化', 'Mean absolute rank shift when the node is removed (siblings re-weighted)'],
    audit_imp_h: ['有效重要性与名义权重', 'Effective importance vs nominal weight'],
    audit_imp_sub: ['相关比 η² 在同级中的份额 vs 名义权重份额；偏离一倍以上者标出', 'Share of the correlation ratio η² among siblings vs nominal weight share; flagged when off by 2×'],
    imp_share: ['重要性份额', 'Importance share'], nom_share: ['名义权重', 'Nominal weight'],
    sev_warning: ['警告', 'warning'], sev_info: ['信息', 'info'], sev_error: ['错误', 'error'],
    exp_h: ['变化的驱动因素', 'What drove the change'],
    exp_sub: ['{0}→{1}年得分变化最大的单元，按维度分解（dcindex explain，各部分之和等于总变化）', 'Units whose score changed most, {0}→{1}, broken down by pillar (dcindex explain; the parts add up to the change)'],
    exp_one: ['只有一年的数据，无法分解变化。', 'Single year: there is no change to explain.'],
    exp_none: ['归因分析不可用：{0}', 'Attribution is not available: {0}'],
    exp_na: ['聚合方法非线性且指标超过 12 项，逐单元的 Shapley 分解太慢，未计算', 'non-linear aggregation with more than 12 indicators: per-unit Shapley attribution would be too slow'],
    exp_pick: ['选择年份（晚于首年）查看变化。', 'Choose a year after the first to see the change.'],
    prof_drivers: ['贡献最大的指标', 'Indicators that moved the score most'],
    prof_sw_rule: ['名次比总名次高（低）至少 {0} 位的节点（与 dcindex profile 规则相同）', 'Nodes ranked at least {0} places above (below) the overall rank (the dcindex profile rule)'],
    prof_wf_src_exp: ['分解：dcindex explain（精确）', 'Breakdown: dcindex explain (exact)'],
    prof_wf_src_own: ['分解：按聚合方法计算（{0}）', 'Breakdown computed from the aggregation ({0})'],
    plan_status: ['状态：{0}；总成本（现值）{1} 亿元', 'Status: {0}; total cost (present value) {1} hundred-million yuan'],
    plan_illus: ['示意性假设（非官方统计）：{0}', 'Illustrative assumptions (not official statistics): {0}'],
    plan_coords: ['位置来源：数据中心 — {0}；需求地 — {1}', 'Locations: sites — {0}; origins — {1}'],
    plan_flow_sub: ['{0}年：线宽与机架数成正比；圆点为数据中心集群（大小 = 已建机架）', '{0}: line width proportional to racks; dots are data-centre sites (size = installed racks)'],
    plan_util_sub: ['{0}年各集群的已用与闲置机架', 'Used and idle racks by site, {0}'],
    plan_front_sub: ['每个点是一个碳价（或排放上限）下的最优方案；成本不含碳价支付（碳价支付是转移支付）', 'Each point is the optimal plan at one carbon price (or emission cap); cost excludes carbon payments (a transfer)'],
    cost: ['总成本（现值，亿元）', 'Total cost (PV, 100 million yuan)'], emis: ['排放（百万吨 CO₂）', 'Emissions (Mt CO₂)'],
    cost_ex: ['不含碳价支付的成本（现值，亿元）', 'Cost excl. carbon payments (PV, 100 million yuan)'], carbon_pay: ['碳价支付（现值，亿元）', 'Carbon payments (PV, 100 million yuan)'],
    racks: ['机架', 'racks'], plan_year: ['方案年份', 'Plan year'],
    st_optimal: ['最优', 'optimal'], st_time_limit: ['达到时间上限', 'time limit reached'], st_infeasible: ['不可行', 'infeasible'],
    src_folder: ['方案目录中的坐标', 'coordinates in the plan folder'], src_shipped: ['内置示例表（sha256 一致）', 'the shipped example tables (sha256 matches)'],
    src_centroid: ['所在省份的中心点（近似）', 'centroid of the province (approximate)'], src_other: ['未知', 'unknown']
  };
  Object.assign(L, {
    kicker_generic: ['综合指数', 'Composite index'],
    rw_exact: ['精确：等同于按这些维度权重重新构建（{0}）', 'Exact: equals a rebuild with these pillar weights ({0} aggregation)'],
    rw_replace: ['滑块用固定权重取代配方的“{1}”维度权重。结果精确等同于把维度权重声明为这些固定权重后重新构建（{0}）；但这不同于按“{1}”方法重新构建——那样会重新计算自己的权重，忽略滑块。',
      'The sliders replace the recipe’s {1} weights of the pillars by fixed weights. The result equals exactly a rebuild with these weights declared as fixed pillar weights ({0} aggregation) — not a rebuild with {1} weighting, which would compute its own weights and ignore the sliders.'],
    rw_approx: ['近似：配方{0}；此处按加权算术平均重新计算各维度，结果与重新构建不同', 'Approximation: the recipe {0}; here the pillars are re-averaged arithmetically, which is not what a rebuild would give'],
    rw_approx_agg: ['按{0}聚合各维度', 'aggregates the pillars by {0}'],
    rw_approx_bod: ['用“有利假设”（BoD）为每个单元分别计算维度权重', 'computes unit-specific benefit-of-the-doubt weights'],
    rw_years: ['配方使用的维度权重逐年不同；滑块从各年平均值开始，移动后每年使用同一组权重。', 'The recipe’s pillar weights differ by year; the sliders start at their mean over the years and, once moved, apply the same weights to every year.'],
    rw_years_h: ['配方各年使用的维度权重', 'Pillar weights the recipe used, by year'],
    rw_unit: ['配方为每个单元使用不同的权重；滑块从平均值开始。', 'The recipe used unit-specific weights; the sliders start at their mean.'],
    rw_status_new: ['显示：按新权重重新计算的结果（{0} 个单元名次变化）', 'Showing: re-weighted result ({0} units change rank)'],
    rw_tag: ['按滑块权重重新计算', 'Re-weighted with the slider weights'],
    rw_pub_note: ['此部分为原发布结果，未随维度权重滑块重新计算。', 'This section shows the published result; it does not follow the weight sliders.'],
    prof_rw: ['按滑块权重重新计算：名次 {0}，得分 {1}（原发布：名次 {2}，得分 {3}）。', 'Re-weighted with the slider weights: rank {0}, score {1} (published: rank {2}, score {3}).'],
    orig_en: ['原文（英文）', 'Original message (English)'],
    orig_en_n: ['原文（英文，{0} 条）', 'Original messages (English, {0})'],
    trend_lede: ['每条线是一个单元的名次轨迹；彩色为最新一年排名前十的单元。可在下拉菜单中选择任一单元高亮显示。',
      'Each line follows one unit’s rank; coloured lines are the latest top ten. Pick any unit in the menu to highlight it.'],
    pat_absent: ['本结果目录中没有区域格局分析（pattern/）。运行“dcindex run”或“dcindex pattern”生成。',
      'This result folder has no regional pattern analysis (pattern/). Run ‘dcindex run’ or ‘dcindex pattern’ to produce it.'],
    markov_sub: ['相对得分的 {1} 个分位类别之间的年度转移；Shorrocks 流动性 = {0}', 'Year-to-year moves between {1} quantile classes of relative scores; Shorrocks mobility = {0}'],
    markov_sub4: ['相对得分四分位类别之间的年度转移；Shorrocks 流动性 = {0}', 'Year-to-year moves between quartile classes of relative scores; Shorrocks mobility = {0}'],
    notes_pat: ['格局分析的说明', 'Notes of the pattern analysis'],
    unc_head: ['{0} 次抽样（{1} 个不确定的方法选择，失败 {2} 次）；{3}年 90% 名次区间宽度的中位数为 {4} 位', '{0} draws ({1} uncertain choices, {2} failed); median width of the 90% rank interval in {3}: {4} places'],
    unc_head_most: ['；影响最大的选择：{0}（总效应 ST = {1}）', '; most influential choice: {0} (total index ST = {1})'],
    unc_notconv: ['Sobol 指数尚未收敛：增加抽样次数（n）后再解读。', 'The Sobol indices have not converged: increase the number of draws (n) before reading them.'],
    unc_whisk_sub: ['{0}年：横线为蒙特卡洛抽样中 5%–95% 的名次区间，圆圈为中位数，菱形为发布名次', '{0}: lines span the 5–95% rank range over the Monte Carlo draws, rings are medians, diamonds the published ranks'],
    lg_range: ['5%–95% 名次区间', '5–95% rank range'], lg_median: ['中位名次', 'Median rank'], lg_pub: ['发布名次', 'Published rank'],
    unc_pairs_sub: ['{0}年：行单元排在列单元之前的概率（发布名次前 {1} 的单元）', '{0}: probability that the row unit ranks above the column unit (the published top {1})'],
    unc_pairs_cap: ['共有 {0} 对单元；热图只显示发布名次前 {1} 的单元之间的 {2} 对，全部结果见 uncertainty/pairs.csv。', '{0} pairs in all; the heatmap shows the {2} pairs among the published top {1}; every pair is in uncertainty/pairs.csv.'],
    unc_close_h: ['最难分先后的单元对', 'Closest calls'],
    unc_close_sub: ['{0}年：排在前面的概率最接近的单元对', '{0}: the pairs whose order is most uncertain'],
    unc_close_row: ['{0} 先于 {1}：{2}；{1} 先于 {0}：{3}', '{0} above {1}: {2}; {1} above {0}: {3}'],
    unc_over_sub: ['{0}→{1}年：超越概率至少 50% 的单元对（共 {2} 对，列出概率最高的 {3} 对）', '{0}→{1}: pairs where one unit overtook the other with probability ≥ 50% ({2} in all; the {3} likeliest listed)'],
    audit_head: ['审计了 {0} 项指标（{1}年）', '{0} indicators audited ({1})'],
    audit_loo_top: ['去掉“{0}”对名次影响最大（平均名次变化 {1}）', 'removing {0} moves units most (mean rank shift {1})'],
    m_notices: ['第三方声明', 'Third-party notices'],
    m_lic_text: ['图表由 Apache ECharts 5.6.0（Apache-2.0，内嵌）绘制；地图边界来自 echarts@4.9.0（Apache-2.0）。本文件离线可用，不发出任何网络请求。',
      'Charts drawn with Apache ECharts 5.6.0 (Apache-2.0, embedded); map boundaries from echarts@4.9.0 (Apache-2.0). This file works offline and makes no network requests.'],
    m_warn_n: ['构建产生了 {0} 条警告：', 'The build raised {0} warning(s):'],
    q_transforms: ['整项指标的变换', 'Whole-indicator transforms'],
    q_transforms_sub: ['以下指标的全部数值都经过变换（例如对数变换），因此不逐格标记：', 'Every value of these indicators was transformed (e.g. log-transformed), so they are not flagged cell by cell:'],
    q_counts: ['共 {0} 个数据格：原始缺失 {1}，插补 {2}，缩尾处理 {3}。', '{0} cells: {1} missing in the input, {2} imputed, {3} winsorised.'],
    f_flags: ['{0} 个数值为插补，{1} 个经过缩尾处理，均已标记。', '{0} values are imputed and {1} winsorised; all are flagged.'],
    f_transforms: ['{0} 项指标整体做了对数变换。', '{0} indicator(s) were log-transformed as a whole.'],
    flags_title: ['{0} 个插补值，{1} 个缩尾值', '{0} imputed, {1} winsorised value(s)'],
    dg_h: ['Dagum 基尼系数：组内与组间', 'Dagum Gini coefficients within and between groups'],
    dg_sub: ['各年组内基尼系数 G_jj、组间基尼系数 G_jh 与三部分的贡献率', 'Within-group Gini G_jj, between-group Gini G_jh and the contribution shares, by year'],
    dg_within: ['组内', 'within'], dg_between: ['组间', 'between'], dg_total: ['总体', 'overall'],
    dg_contrib: ['贡献率', 'Contribution'], dg_pairs_omitted: ['分组超过 10 个，组间基尼系数表从略（见 pattern/ 中的 dagum_pairs.csv）。', 'More than 10 groups: the between-group table is left out (see dagum_pairs.csv in pattern/).'],
    exp_sub: ['{0}→{1}年得分上升最多和下降最多的单元（各 {2} 个），按维度分解（dcindex explain，各部分之和等于总变化）', 'The {2} units whose score rose most and the {2} whose score fell least or dropped, {0}→{1}, broken down by pillar (dcindex explain; the parts add up to the change)'],
    exp_sub_all: ['{0}→{1}年各单元得分变化，按维度分解（dcindex explain，各部分之和等于总变化）', 'Change of every unit’s score, {0}→{1}, broken down by pillar (dcindex explain; the parts add up to the change)'],
    grp_none: ['（未分组）', '(no group)'],
    plan_id: ['情景 {0}', 'Scenario {0}'],
    plan_illus: ['示意性假设（非官方统计）：{0}', 'Illustrative assumptions (not official statistics): {0}'],
    plan_sum: ['规划工具的摘要（原文，英文）', 'Summary of the planner (summary.txt)'],
    prof_sw_none_s: ['没有节点比总名次高出至少 {0} 位。', 'No node ranks at least {0} places above the overall rank.'],
    prof_sw_none_w: ['没有节点比总名次低至少 {0} 位。', 'No node ranks at least {0} places below the overall rank.'],
    prof_best_h: ['名次最高的节点', 'Best-ranked nodes'],
    prof_worst_h: ['名次最低的节点', 'Worst-ranked nodes'],
    prof_radar_sub: ['{0}年；与全体中位数和{1}均值比较', '{0}; compared with the median of all units and the {1} mean'],
    prof_radar_sub0: ['{0}年；与全体中位数比较', '{0}; compared with the median of all units'],
    exp_only: ['所选年份没有分解结果（非线性聚合时只计算最后一年）；此处显示 {0} 年。', 'No breakdown for the selected year (with a non-linear aggregation only the last year is computed); showing {0}.'],
    in_data: ['数据', 'Data'], in_framework: ['指标体系', 'Framework'], in_recipe: ['配方', 'Recipe'], in_units: ['单元表', 'Units'],
    ind_transform: ['整体{0}（{1}）', '{0} as a whole ({1})'],
    nav_sections: ['章节', 'Sections'], desc_en: ['框架说明（英文原文）', 'Description'], lang_switch: ['语言', 'Language'],
    m_gini: ['基尼系数', 'Gini'], m_theil_t: ['泰尔 T 指数', 'Theil T'], m_theil_l: ['泰尔 L 指数', 'Theil L'],
    unc_over_sub0: ['{0}→{1}年', '{0}→{1}']
  });
  var LANG_I = { zh: 0, en: 1 };

  /* ----------------------------------------------------------------------------------- state */
  var RW = D.reweight;
  var S = {
    lang: D.lang === 'en' ? 'en' : 'zh', yi: T - 1, mapNode: D.root, grp: (D.group_defs[0] || {}).col || null,
    outline: (D.group_defs[0] || {}).col || '', patNode: D.root, sortKey: 'rank', sortDir: 1, q: '', gf: '',
    w: RW.slider.slice(), rwOn: false, rwScores: null, rwRanks: null, hl: ''
  };

  function t(key) {
    var e = L[key], s = e ? e[LANG_I[S.lang]] : key, args = arguments;
    return s.replace(/\{(\d)\}/g, function (_, i) { var v = args[+i + 1]; return v === undefined ? '' : String(v); });
  }
  function uname(i) { return S.lang === 'zh' ? D.units.zh[i] : D.units.en[i]; }
  function nlabel(code) { var n = NODE[code]; return n ? (S.lang === 'zh' ? n.zh : n.en) : code; }
  function glabel(col, v) {
    var g = D.group_defs.filter(function (x) { return x.col === col; })[0];
    if (!g) return v == null ? '' : String(v);
    var m = g.values.filter(function (x) { return x.v === v; })[0];
    return m ? m[S.lang] : (v == null ? '' : String(v));
  }
  function gcolname(col) {
    var g = D.group_defs.filter(function (x) { return x.col === col; })[0];
    return g ? g[S.lang] : col;
  }
  var NF = {};
  function fmt(x, d) {
    if (x === null || x === undefined || (typeof x === 'number' && !isFinite(x))) return '–';
    d = d === undefined ? 1 : d;
    var k = S.lang + d;
    if (!NF[k]) NF[k] = new Intl.NumberFormat(S.lang === 'zh' ? 'zh-CN' : 'en-GB', { minimumFractionDigits: d, maximumFractionDigits: d });
    return NF[k].format(x);
  }
  function fmtg(x) { // a few significant digits for raw values
    if (x === null || x === undefined) return '–';
    var a = Math.abs(x);
    return fmt(x, a >= 1000 ? 0 : a >= 100 ? 1 : a >= 1 ? 2 : 3);
  }
  function rk1(v) { return Number.isInteger(v) ? String(v) : fmt(v, 1); }  // a rank, or a quantile of ranks
  function pct(x, d) { return x == null ? '–' : fmt(100 * x, d === undefined ? 0 : d) + '%'; }
  var VERDICT = { 'no significant trend': ['无显著趋势', 'no significant trend'], narrowing: ['收窄', 'narrowing'], widening: ['扩大', 'widening'] };
  function verdict(v) { return v == null ? '' : VERDICT[v] ? VERDICT[v][LANG_I[S.lang]] : String(v); }
  var TREAT = { winsorised: ['缩尾', 'winsorised'], log: ['对数变换', 'log-transformed'], treated: ['已处理', 'treated'], high: ['高端', 'high'], low: ['低端', 'low'] };
  function treatName(s) { return String(s).replace(/[a-z]+/g, function (w) { return TREAT[w] ? TREAT[w][LANG_I[S.lang]] : w; }); }
  var WMETH = { meta: ['声明权重', 'declared'], equal: ['等权', 'equal'], entropy: ['熵权法', 'entropy'], critic: ['CRITIC', 'CRITIC'],
    pca: ['主成分', 'PCA'], ahp: ['层次分析法', 'AHP'], bod: ['BoD', 'benefit of the doubt'] };
  var AKIND = { availability: ['数据可得性低', 'low availability'], outliers: ['异常值', 'outliers'], treated: ['已处理异常值', 'outliers treated'],
    redundant: ['高度相关（冗余）', 'redundant'], conflict: ['负相关（冲突）', 'conflict'], low_alpha: ['内部一致性低', 'low consistency'],
    multidimensional: ['多维', 'multidimensional'], weight_mismatch: ['权重与重要性不符', 'weight mismatch'] };
  AKIND.weight_mismatch_uncertain = ['权重与重要性可能不符（不确定）', 'possible weight mismatch (uncertain)'];
  AKIND.treated = ['异常值已处理', 'outliers treated'];
  function auditKind(k) { return k == null ? '' : AKIND[k] ? AKIND[k][LANG_I[S.lang]] : String(k); }
  function wmethod(m) { if (!m) return ''; var b = String(m).split(' ')[0]; return WMETH[b] ? WMETH[b][LANG_I[S.lang]] : m; }
  var AGG = { arithmetic: ['算术平均', 'arithmetic mean'], geometric: ['几何平均', 'geometric mean'], harmonic: ['调和平均', 'harmonic mean'],
    mazziotta_pareto: ['Mazziotta–Pareto 指数', 'Mazziotta–Pareto index'], topsis: ['TOPSIS 贴近度', 'TOPSIS closeness'] };
  function aggName(m) { return AGG[m] ? AGG[m][LANG_I[S.lang]] : String(m); }
  // method names of the recipe steps (the keys and values of their parameters are code and stay as they are)
  var STEPM = { none: ['无', 'none'], mean: ['均值插补', 'mean'], median: ['中位数插补', 'median'], group_mean: ['组均值插补', 'group mean'],
    group_median: ['组中位数插补', 'group median'], linear: ['线性插值', 'linear interpolation'], locf: ['沿用上一期', 'last observation carried forward'],
    coverage: ['按数据覆盖率筛选', 'coverage screening'], winsorise: ['缩尾', 'winsorise'], log: ['对数变换', 'log transform'],
    minmax: ['最小–最大标准化', 'min–max'], zscore: ['z 分数', 'z-score'], rank: ['排名', 'ranks'], percentile_rank: ['百分位排名', 'percentile ranks'],
    target: ['目标距离', 'distance to target'], goalposts: ['目标值法', 'goalposts'], base_year: ['基年比较', 'base year'],
    strict: ['严格（分母缺失即报错）', 'strict'], 'true': ['是', 'yes'], 'false': ['否', 'no'] };
  function stepMethod(m) { var k = String(m); if (WMETH[k]) return WMETH[k][LANG_I[S.lang]]; if (AGG[k]) return AGG[k][LANG_I[S.lang]]; return STEPM[k] ? STEPM[k][LANG_I[S.lang]] : k; }
  var SCOPE = { pooled: ['合并各年', 'pooled'], all: ['全部年份', 'all years'], year: ['逐年', 'by year'] };
  function scopeName(s) { return SCOPE[s] ? SCOPE[s][LANG_I[S.lang]] : String(s); }
  var PLAN_TABLE = { bandwidth: ['带宽', 'bandwidth'], demand: ['算力需求', 'demand'], green_supply: ['绿电供给', 'green power supply'],
    latency: ['网络时延', 'latency'], sites: ['数据中心站点', 'sites'], origins: ['需求地', 'origins'], costs: ['成本', 'costs'],
    emissions: ['排放因子', 'emission factors'], energy: ['能源', 'energy'] };
  function planTable(s) { return PLAN_TABLE[s] ? PLAN_TABLE[s][LANG_I[S.lang]] : String(s); }
  // punctuation of generated sentences
  function comma() { return S.lang === 'zh' ? '，' : ', '; }
  function stop() { return S.lang === 'zh' ? '。' : '. '; }
  function colon() { return S.lang === 'zh' ? '：' : ': '; }
  // English text that comes verbatim from another tool: in Chinese mode under a label saying so
  function origEn(lines, openEn) {
    lines = (lines || []).filter(function (x) { return x != null && String(x) !== ''; });
    if (!lines.length) return null;
    if (S.lang === 'en' && openEn) return h('div', { class: 'orig' }, lines.map(function (x) { return h('p', null, String(x)); }));
    return h('details', { class: 'verbatim orig' }, h('summary', null, lines.length > 1 ? t('orig_en_n', lines.length) : t('orig_en')),
      h('div', { lang: 'en' }, lines.map(function (x) { return h('p', null, String(x)); })));
  }

  /* ------------------------------------------------------------------------------------ DOM */
  function h(tag, attrs) {
    var el = document.createElement(tag);
    if (attrs) for (var k in attrs) {
      var v = attrs[k];
      if (v === null || v === undefined || v === false) continue;
      if (k === 'text') el.textContent = v;
      else if (k === 'class') el.className = v;
      else if (k.slice(0, 2) === 'on') el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? '' : String(v));
    }
    for (var i = 2; i < arguments.length; i++) add(el, arguments[i]);
    return el;
  }
  function add(el, c) {
    if (c === null || c === undefined || c === false) return;
    if (Array.isArray(c)) { c.forEach(function (x) { add(el, x); }); return; }
    el.appendChild(typeof c === 'object' ? c : document.createTextNode(String(c)));
  }
  function clear(el) { disposeIn(el); while (el.firstChild) el.removeChild(el.firstChild); }
  function absent(msg) { return h('div', { class: 'absent', role: 'note' }, msg); }
  function sel(options, value, onchange, label) {
    var s = h('select', { onchange: function () { onchange(s.value); }, 'aria-label': label || null });
    options.forEach(function (o) { var op = h('option', { value: o[0], text: o[1] }); if (String(o[0]) === String(value)) op.selected = true; s.appendChild(op); });
    return s;
  }
  function ctl(label, control) { return h('label', { class: 'ctl' }, label, control); }
  function tip(lines) { // tooltip content as a DOM node (never an HTML string)
    var d = h('div', { class: 'tt' });
    lines.forEach(function (ln, i) { d.appendChild(h(i === 0 ? 'b' : 'div', null, ln)); });
    return d;
  }

  /* --------------------------------------------------------------------------------- charts */
  var live = new Set();
  var io = ('IntersectionObserver' in window) ? new IntersectionObserver(function (es) {
    es.forEach(function (e) { if (e.isIntersecting) draw(e.target); });
  }, { rootMargin: '300px 0px' }) : null;
  function chart(cls, make) {
    var el = h('div', { class: 'chart ' + (cls || ''), role: 'img' });
    el._make = make;
    if (io) io.observe(el); else setTimeout(function () { draw(el); }, 0);
    return el;
  }
  function draw(el) {
    if (el._inst || !el._make || !el.isConnected) return;
    if (io) io.unobserve(el);
    var opt = el._make(el);
    var inst = E.init(el, null, { renderer: 'canvas' });
    opt.textStyle = Object.assign({ fontFamily: FONT }, opt.textStyle || {});
    opt.animation = opt.animation === undefined ? false : opt.animation;
    inst.setOption(opt);
    if (el._click) inst.on('click', el._click);
    el._inst = inst; live.add(el);
  }
  function disposeIn(root) {
    live.forEach(function (el) { if (root.contains(el)) { el._inst.dispose(); el._inst = null; live.delete(el); } });
    if (io) root.querySelectorAll && root.querySelectorAll('.chart').forEach(function (el) { io.unobserve(el); });
  }
  window.addEventListener('resize', function () { live.forEach(function (el) { el._inst.resize(); }); });
  // printing: charts below the fold are drawn lazily, so draw all of them (at the printed width) first
  window.addEventListener('beforeprint', function () {
    document.querySelectorAll('.chart').forEach(draw);
    live.forEach(function (el) { el._inst.resize(); });
  });
  window.addEventListener('afterprint', function () { live.forEach(function (el) { el._inst.resize(); }); });
  if (window.matchMedia) {
    var pm = window.matchMedia('print'), onPrint = function () { live.forEach(function (el) { el._inst.resize(); }); };
    if (pm.addEventListener) pm.addEventListener('change', onPrint); else if (pm.addListener) pm.addListener(onPrint);
  }
  var MEASURE = null;
  function textWidth(s, px) {
    if (!MEASURE) MEASURE = document.createElement('canvas').getContext('2d');
    MEASURE.font = px + 'px ' + FONT; return MEASURE.measureText(String(s)).width;
  }
  // labels of a category axis that never collide: on one line when they fit their category's width; else wrapped
  // within it (at most three lines); else rotated and cut with an ellipsis (the full name is in the tooltip)
  // Returns {label: axisLabel options, left: grid.left that keeps rotated labels inside the chart}.
  function catLabels(el, labels, pad, px) {
    px = px || 12;
    var w = (el && el.clientWidth ? el.clientWidth : 600) - (pad || 90), cat = w / Math.max(1, labels.length), cw = cat - 12;
    var widest = 0, word = 0, ROT = 35, MAXW = 190, left = 0;
    labels.forEach(function (s, i) {
      var tw = textWidth(s, px);
      widest = Math.max(widest, tw);
      left = Math.max(left, Math.min(MAXW, tw) * Math.cos(ROT * Math.PI / 180) - (i + 0.5) * cat + 8);
      (String(s).match(/[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]|[^\s\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]+/g) || []).forEach(function (x) { word = Math.max(word, textWidth(x, px)); });
    });
    var base = { interval: 0, color: '#55575d', fontSize: px, hideOverlap: false };
    if (widest <= cw) return { label: Object.assign(base, { rotate: 0 }), left: 0 };
    if (cw >= 44 && word <= cw && widest / cw <= 2.2) return { label: Object.assign(base, { rotate: 0, width: Math.floor(cw), overflow: 'break', lineHeight: px + 3 }), left: 0 };
    return { label: Object.assign(base, { rotate: ROT, width: MAXW, overflow: 'truncate' }), left: Math.ceil(left) };
  }
  function baseGrid(extra) { return Object.assign({ left: 48, right: 24, top: 28, bottom: 36, containLabel: true }, extra || {}); }
  var AX = { axisLine: { lineStyle: { color: '#b9b3a8' } }, axisTick: { show: false }, axisLabel: { color: '#55575d' },
    splitLine: { lineStyle: { color: '#ece7df' } }, nameTextStyle: { color: '#7b7f88' } };
  function axis(o) { return Object.assign({}, AX, o); }
  function tooltip(fmt, extra) {
    return Object.assign({ trigger: 'item', confine: true, backgroundColor: 'rgba(255,255,255,.97)', borderColor: '#d8d2c6',
      textStyle: { color: '#1c1d21', fontSize: 13 }, extraCssText: 'box-shadow:0 2px 10px rgba(0,0,0,.12);', formatter: fmt }, extra || {});
  }

  /* ------------------------------------------------------------------ numpy-exact arithmetic */
  // numpy's pairwise summation (numpy/_core/src/umath/loops_utils.h.src), so that sums match the Python
  // build bit for bit: blocks < 8 are summed left to right from 0, up to 128 with 8 accumulators, larger
  // ones split in halves (multiple of 8).
  function npsum(a, lo, n) {
    lo = lo || 0; if (n === undefined) n = a.length - lo;
    var i, res;
    if (n < 8) { res = 0; for (i = 0; i < n; i++) res += a[lo + i]; return res; }
    if (n <= 128) {
      var r = [a[lo], a[lo + 1], a[lo + 2], a[lo + 3], a[lo + 4], a[lo + 5], a[lo + 6], a[lo + 7]];
      for (i = 8; i < n - (n % 8); i += 8) for (var j = 0; j < 8; j++) r[j] += a[lo + i + j];
      res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
      for (; i < n; i++) res += a[lo + i];
      return res;
    }
    var n2 = Math.floor(n / 2); n2 -= n2 % 8;
    return npsum(a, lo, n2) + npsum(a, lo + n2, n - n2);
  }
  // dcindex.aggregate.arithmetic / geometric for one unit: y (C,), w (C,) normalised weights
  function aggregate(method, y, w, minCov) {
    var C = y.length, wp = new Array(C), prod = new Array(C), cnt = 0;
    for (var i = 0; i < C; i++) {
      var present = y[i] !== null && y[i] !== undefined && !isNaN(y[i]);
      if (present) cnt++;
      wp[i] = present ? w[i] : 0;
      if (method === 'geometric') prod[i] = present ? Math.log(y[i]) * wp[i] : 0;
      else prod[i] = (present ? y[i] : 0) * wp[i];
    }
    var wsum = npsum(wp), out;
    if (!(wsum > 0)) return NaN;
    if (method === 'geometric') {
      for (i = 0; i < C; i++) if (y[i] !== null && !isNaN(y[i]) && y[i] <= 0) return NaN;
      out = Math.exp(npsum(prod) / wsum);
    } else out = npsum(prod) / wsum;
    if (minCov > 0 && cnt / C + 1e-12 < minCov) return NaN;
    return out;
  }
  // ranks as scipy.stats.rankdata(-s, method='min', nan_policy='omit'): 1 = highest, ties share the lowest
  function rankMin(s) {
    var idx = [], r = new Array(s.length).fill(null);
    for (var i = 0; i < s.length; i++) if (s[i] !== null && !isNaN(s[i])) idx.push(i);
    idx.sort(function (a, b) { return s[b] - s[a] || a - b; });
    for (var k = 0; k < idx.length; k++) r[idx[k]] = (k > 0 && s[idx[k]] === s[idx[k - 1]]) ? r[idx[k - 1]] : k + 1;
    return r;
  }
  function normWeights(v) { var s = npsum(v); return v.map(function (x) { return x / s; }); }
  function recompute() {
    var P = RW.pillars, w = normWeights(S.w.map(Number)), method = rwMode() === 'approx' ? 'arithmetic' : RW.method;
    var sc = [], rk = [];
    for (var ti = 0; ti < T; ti++) {
      var row = new Array(N);
      for (var n = 0; n < N; n++) row[n] = aggregate(method, P.map(function (p) { return D.scores[p][ti][n]; }), w, RW.min_coverage);
      sc.push(row); rk.push(rankMin(row));
    }
    S.rwScores = sc; S.rwRanks = rk;
  }
  function curScore(ti, n) { return S.rwOn ? S.rwScores[ti][n] : D.scores[D.root][ti][n]; }
  function curRank(ti, n) { return S.rwOn ? S.rwRanks[ti][n] : D.ranks[D.root][ti][n]; }

  /* ---------------------------------------------------------------------------------- flags */
  var FLAG = { imputed: {}, treated: {} }; // key "t,n" -> [k...]
  ['imputed', 'treated'].forEach(function (kind) {
    D.flags[kind].forEach(function (f) { var key = f[0] + ',' + f[1]; (FLAG[kind][key] = FLAG[kind][key] || []).push(f); });
  });
  function cellFlag(ti, n, k) {
    var out = [];
    ['imputed', 'treated'].forEach(function (kind) {
      (FLAG[kind][ti + ',' + n] || []).forEach(function (f) { if (f[2] === k) out.push([kind, f[3]]); });
    });
    return out;
  }

  /* ------------------------------------------------------------------------------- layout */
  var app = document.getElementById('app');
  var SECS = [];
  function render() {
    document.documentElement.lang = S.lang === 'zh' ? 'zh-CN' : 'en';
    document.title = (S.lang === 'zh' ? D.title.zh : D.title.en) + ' · dcindex';
    FONT = getComputedStyle(document.documentElement).getPropertyValue('--sans') || FONT;
    clear(app);
    app.appendChild(masthead());
    var main = h('div', { id: 'main' });
    app.appendChild(main);
    app.appendChild(h('div', { id: 'profile' }));
    main.appendChild(hero());
    SECS = [
      ['ranking', 'nav_rank', secRanking], ['map', 'nav_map', secMap], ['trend', 'nav_trend', secTrend],
      ['pattern', 'nav_pattern', secPattern], ['uncertainty', 'nav_unc', secUncertainty], ['explain', 'nav_explain', secExplain],
      ['framework', 'nav_fw', secFramework], ['quality', 'nav_quality', secQuality], ['method', 'nav_method', secMethod]
    ];
    if (D.plan) SECS.splice(6, 0, ['plan', 'nav_plan', secPlan]);
    main.appendChild(toc());
    SECS.forEach(function (s) {
      var el = h('section', { class: 'sec', id: 'sec-' + s[0] }, h('div', { class: 'wrap' }));
      main.appendChild(el);
      s[2](el.firstChild);
    });
    main.appendChild(h('footer', null, h('div', { class: 'wrap' }, h('p', null, t('footer', D.provenance.version)),
      h('p', null, t('m_lic_text')))));
    route();
  }
  function rerender(id) {
    var s = SECS.filter(function (x) { return x[0] === id; })[0];
    var el = document.getElementById('sec-' + id);
    if (!s || !el) return;
    // charts that were already drawn are redrawn at once (no blank frame, no wait for the scroll observer)
    var drawn = Array.prototype.some.call(el.querySelectorAll('.chart'), function (c) { return !!c._inst; });
    clear(el.firstChild); s[2](el.firstChild);
    if (drawn) el.querySelectorAll('.chart').forEach(draw);
  }

  function masthead() {
    function lb(code, text) {
      return h('button', { 'aria-pressed': S.lang === code ? 'true' : 'false', 'data-lang': code, onclick: function () { setLang(code); } }, text);
    }
    return h('header', { class: 'masthead' }, h('div', { class: 'wrap' },
      h('div', { class: 'brand' }, h('b', null, 'dcindex'), ' · ', t('brand_sub')),
      h('div', { class: 'langs', role: 'group', 'aria-label': t('lang_switch') }, lb('zh', '中文'), lb('en', 'EN'))));
  }
  function setLang(l) {
    if (l === S.lang) return;
    var y = window.scrollY; S.lang = l; render(); window.scrollTo(0, y);
  }

  function hero() {
    var desc = D.description || {};
    // the framework's description in the page's language; in Chinese without a Chinese one, the English one as such
    var dek = S.lang === 'zh' ? desc.zh : (desc.en || desc.zh), dekEn = S.lang === 'zh' && !desc.zh && desc.en;
    var nInd = D.indicators.length;
    var span = T > 1 ? YEARS[0] + '–' + YEARS[T - 1] : String(YEARS[0]);
    return h('div', { class: 'wrap' }, h('div', { class: 'hero' },
      h('p', { class: 'kicker' }, (S.lang === 'zh' ? desc.name_zh : desc.name_en) || t('kicker_generic')),
      h('h1', { id: 'title' }, S.lang === 'zh' ? D.title.zh : D.title.en),
      dek ? h('p', { class: 'dek' }, dek) : dekEn ? h('p', { class: 'dek' }, h('span', { class: 'pill' }, t('desc_en')), ' ', h('span', { class: 'data', lang: 'en' }, desc.en)) : null,
      h('div', { class: 'meta' }, h('span', null, h('b', null, t('units_n', N))), h('span', null, h('b', null, span)),
        h('span', null, t('ind_n', nInd, D.pillars.length)), h('span', null, t('version', D.provenance.version)))),
      findings());
  }

  function findings() {
    var out = [], ti = T - 1, sc = D.scores[D.root][ti], rk = D.ranks[D.root][ti];
    var order = CODES.map(function (_, i) { return i; }).filter(function (i) { return rk[i] != null; })
      .sort(function (a, b) { return rk[a] - rk[b]; });
    if (order.length) {
      var a = order[0], z = order[order.length - 1];
      out.push(t('f_leader', YEARS[ti], uname(a), fmt(sc[a]), uname(z), fmt(sc[z])));
    }
    if (T > 1) {
      var r0 = D.ranks[D.root][0], best = null, worst = null;
      for (var i = 0; i < N; i++) {
        if (r0[i] == null || rk[i] == null) continue;
        var d = r0[i] - rk[i];
        if (best === null || d > best[1]) best = [i, d];
        if (worst === null || d < worst[1]) worst = [i, d];
      }
      if (best && best[1] > 0) out.push(t('f_climb', YEARS[0], uname(best[0]), best[1], uname(worst[0]), -worst[1]));
    }
    var P = D.pattern && D.pattern.groups && S.grp && D.pattern.groups[S.grp] && D.pattern.groups[S.grp][D.root];
    if (P && P.group_stats) {
      var gs = P.group_stats, last = [];
      for (var j = 0; j < gs.year.length; j++) if (gs.year[j] === YEARS[ti]) last.push([gs.group[j], gs.mean[j]]);
      last.sort(function (a, b) { return b[1] - a[1]; });
      if (last.length > 1 && last[last.length - 1][1] > 0) {
        var hi = last[0], lo = last[last.length - 1];
        out.push(t('f_gap', gcolname(S.grp), glabel(S.grp, hi[0]), fmt(hi[1]), glabel(S.grp, lo[0]), fmt(lo[1]), fmt(hi[1] / lo[1], 1)));
      }
    }
    var NL = D.pattern && D.pattern.nodes && D.pattern.nodes[D.root];
    if (NL && NL.inequality && T > 1) {
      var q = NL.inequality, gi = [];
      for (j = 0; j < q.year.length; j++) if (q.measure[j] === 'gini' && q.weighted[j] === false) gi.push([q.year[j], q.value[j]]);
      gi.sort(function (a, b) { return a[0] - b[0]; });
      if (gi.length > 1) {
        var g0 = gi[0], g1 = gi[gi.length - 1], dd = g1[1] - g0[1];
        out.push(t('f_gini', g0[0], fmt(g0[1], 3), Math.abs(dd) < 0.005 ? t('f_flat') : dd > 0 ? t('f_rise') : t('f_fall'), g1[0], fmt(g1[1], 3)));
      }
    }
    if (P && P.results && P.results.dagum) {
      var dg = P.results.dagum;
      out.push(t('f_dagum', dg.year, pct(dg.Gnb_share), gcolname(S.grp)));
    }
    if (NL && NL.moran) {
      var mo = NL.moran, m = mo.year.length - 1;
      if (m >= 0 && mo.I[m] != null) {
        var p = mo.p_sim ? mo.p_sim[m] : mo.p_norm[m];
        out.push(t('f_moran', mo.year[m], fmt(mo.I[m], 2), fmt(p, 3), p <= 0.05 && mo.I[m] > 0 ? t('f_cluster') : t('f_nocluster')));
      }
    }
    var nImp = D.flags.imputed.length, nWin = D.flags.treated.length;
    if (nImp + nWin > 0) out.push(t('f_flags', nImp, nWin));
    if (D.warnings.length) out.push(t('f_warn', D.warnings.length));
    var tr = D.flags.transforms ? Object.keys(D.flags.transforms).length : 0;
    if (tr) out.push(t('f_transforms', tr));
    return h('div', { class: 'findings', id: 'findings' }, h('h2', null, t('findings')), rwBanner(false),
      h('ul', null, out.map(function (s) { return h('li', null, s); })));
  }
  function refreshFindings() { var f = document.getElementById('findings'); if (f) f.parentNode.replaceChild(findings(), f); }

  function toc() {
    var years = YEARS.map(function (y, i) { return [i, String(y)]; });
    return h('div', { class: 'toc' }, h('div', { class: 'wrap' },
      h('nav', { 'aria-label': t('nav_sections') }, SECS.map(function (s) { return h('a', { href: '#sec-' + s[0] }, t(s[1])); })),
      T > 1 ? ctl(t('year'), sel(years, S.yi, function (v) { S.yi = +v; yearChanged(); }, t('year'))) : null));
  }
  function yearChanged() { ['ranking', 'map', 'pattern', 'uncertainty', 'explain'].forEach(rerender); }

  /* ------------------------------------------------------------------------------ ranking */
  function groupOf(n) { return S.grp ? D.units.groups[S.grp][n] : null; }
  function inGroupFilter(n) {
    if (!S.gf) return true;
    var v = groupOf(n);
    if (S.gf === '-') return v == null;
    var g = D.group_defs.filter(function (x) { return x.col === S.grp; })[0], i = +S.gf.slice(1);
    return g && g.values[i] ? v === g.values[i].v : false;
  }
  function secRanking(root) {
    add(root, [h('h2', null, t('rank_h', YEARS[S.yi])), h('p', { class: 'lede' }, t('rank_lede'))]);
    var controls = h('div', { class: 'controls' });
    var q = h('input', { type: 'search', placeholder: t('search'), 'aria-label': t('search'), value: S.q, id: 'rank-search' });
    q.addEventListener('input', function () { S.q = q.value; fillTable(); });
    controls.appendChild(q);
    if (D.group_defs.length) {
      controls.appendChild(ctl(t('grouping'), sel(D.group_defs.map(function (g) { return [g.col, g[S.lang]]; }), S.grp,
        function (v) { S.grp = v; S.gf = ''; rerender('ranking'); rerender('pattern'); }, t('grouping'))));
      // options by position ('' = all, '-' = units without a group), so that no group value can collide with them
      var g = D.group_defs.filter(function (x) { return x.col === S.grp; })[0];
      var hasNone = D.units.groups[S.grp].some(function (v) { return v == null; });
      controls.appendChild(sel([['', t('all_groups')]].concat(g.values.map(function (v, i) { return ['g' + i, v[S.lang]]; }), hasNone ? [['-', t('grp_none')]] : []),
        S.gf, function (v) { S.gf = v; fillTable(); }, t('col_group')));
    }
    var box = h('div', { class: 'tablebox' });
    var grid = h('div', { class: 'grid-rank' }, h('div', null, controls, box), rwPanel());
    root.appendChild(grid);
    var unc = uncRanks();
    function fillTable() {
      clear(box);
      var ti = S.yi, cols = [['rank', t('col_rank')]];
      if (ti > 0) cols.push(['chg', t('col_chg')]);
      cols.push(['unit', t('col_unit')]);
      if (S.grp) cols.push(['group', t('col_group')]);
      cols.push(['score', t('col_score')]);
      if (S.rwOn) cols.push(['pub', t('col_pub')]);
      if (unc && !S.rwOn) cols.push(['ci', t('col_ci')]);
      D.pillars.forEach(function (p) { cols.push(['p:' + p, nlabel(p)]); });
      var rows = [];
      for (var n = 0; n < N; n++) {
        if (S.gf && !inGroupFilter(n)) continue;
        if (S.q) {
          var qq = S.q.toLowerCase();
          if (D.units.zh[n].toLowerCase().indexOf(qq) < 0 && D.units.en[n].toLowerCase().indexOf(qq) < 0 && CODES[n].indexOf(qq) < 0) continue;
        }
        rows.push(n);
      }
      var prevRank = function (n) {
        if (ti === 0) return null;
        return S.rwOn ? S.rwRanks[ti - 1][n] : D.ranks[D.root][ti - 1][n];
      };
      var keyf = {
        rank: function (n) { var r = curRank(ti, n); return r == null ? 1e9 : r; },
        chg: function (n) { var a = prevRank(n), b = curRank(ti, n); return a == null || b == null ? -1e9 : a - b; },
        unit: function (n) { return uname(n); }, group: function (n) { return glabel(S.grp, groupOf(n)); },
        score: function (n) { var s = curScore(ti, n); return s == null || isNaN(s) ? -1e18 : s; },
        pub: function (n) { var b = curRank(ti, n), a = D.ranks[D.root][ti][n]; return a == null || b == null ? -1e9 : a - b; },
        ci: function (n) { return unc && unc[n] ? unc[n][0] : 1e9; }
      };
      var kf = S.sortKey.slice(0, 2) === 'p:' ? (function (p) { return function (n) { var v = D.scores[p][ti][n]; return v == null ? -1e18 : v; }; })(S.sortKey.slice(2)) : keyf[S.sortKey] || keyf.rank;
      var numeric = S.sortKey !== 'unit' && S.sortKey !== 'group';
      var dir = S.sortDir;
      rows.sort(function (a, b) {
        var x = kf(a), y = kf(b), c = numeric ? x - y : String(x).localeCompare(String(y), S.lang === 'zh' ? 'zh-CN' : 'en');
        if (S.sortKey === 'score' || S.sortKey === 'chg' || S.sortKey === 'pub' || S.sortKey.slice(0, 2) === 'p:') c = -c;
        return (c * dir) || (keyf.rank(a) - keyf.rank(b)) || (a - b);
      });
      var maxScore = 0, minScore = 0;
      for (var i = 0; i < N; i++) { var s0 = curScore(ti, i); if (s0 > maxScore) maxScore = s0; if (s0 < minScore) minScore = s0; }
      var pmax = {};
      D.pillars.forEach(function (p) { var m = 0; D.scores[p][ti].forEach(function (v) { if (v > m) m = v; }); pmax[p] = m || 1; });
      var thead = h('thead', null, h('tr', null, cols.map(function (c) {
        var sorted = S.sortKey === c[0];
        return h('th', { scope: 'col', class: c[0].slice(0, 2) === 'p:' ? 'pcol' : null, 'aria-sort': sorted ? (S.sortDir === 1 ? 'ascending' : 'descending') : null, 'data-key': c[0] },
          h('button', { onclick: function () { if (S.sortKey === c[0]) S.sortDir = -S.sortDir; else { S.sortKey = c[0]; S.sortDir = 1; } fillTable(); } }, c[1]));
      })));
      var tb = h('tbody', null);
      rows.forEach(function (n) {
        var r = curRank(ti, n), pr = prevRank(n), s = curScore(ti, n);
        var tr = h('tr', { 'data-unit': CODES[n] });
        tr.appendChild(h('td', { class: 'rk' }, r == null ? '–' : String(r)));
        if (ti > 0) tr.appendChild(h('td', null, chg(pr, r)));
        var nm = h('td', null, h('a', { href: '#unit=' + encodeURIComponent(CODES[n]), class: 'uname' }, uname(n)));
        var fi = (FLAG.imputed[ti + ',' + n] || []).length, ft = (FLAG.treated[ti + ',' + n] || []).length;
        if (fi + ft) nm.appendChild(h('span', { class: 'flagdot', title: t('flags_title', fi, ft) }, '⚑ ' + (fi + ft)));
        tr.appendChild(nm);
        if (S.grp) tr.appendChild(h('td', { class: 'gtag' }, groupOf(n) == null ? '–' : glabel(S.grp, groupOf(n))));
        var bar = h('span', { class: 'bar' + (S.rwOn ? ' rw' : '') }, h('i'));
        bar.firstChild.style.width = (s == null || isNaN(s) || maxScore <= minScore ? 0 : Math.max(0, 100 * (s - Math.min(0, minScore)) / (maxScore - Math.min(0, minScore)))) + '%';
        tr.appendChild(h('td', { class: 'num' }, h('span', { class: 'sc' }, fmt(s)), bar));
        if (S.rwOn) { var p0 = D.ranks[D.root][ti][n]; tr.appendChild(h('td', null, chg(p0, r))); }
        if (unc && !S.rwOn) tr.appendChild(h('td', { class: 'ci' }, unc[n] ? Math.round(unc[n][0]) + '–' + Math.round(unc[n][1]) : '–'));
        D.pillars.forEach(function (p) {
          var v = D.scores[p][ti][n], sp = h('span', { class: 'heat' }, fmt(v));
          if (v != null) { var a = Math.max(0, Math.min(1, v / pmax[p])); sp.style.background = 'rgba(31,92,153,' + (0.06 + 0.34 * a).toFixed(3) + ')'; }
          tr.appendChild(h('td', { class: 'cell' }, sp));
        });
        tb.appendChild(tr);
      });
      box.appendChild(h('table', { class: 'rank', id: 'rank-table' }, h('caption', { class: 'vh' }, t('rank_h', YEARS[ti])), thead, tb));
    }
    root._fill = fillTable;
    fillTable();
  }
  function chg(prev, cur) {
    if (prev == null && cur != null) return h('span', { class: 'chg same' }, S.yi === 0 ? '' : t('new_entry'));
    if (prev == null || cur == null) return '';
    var d = prev - cur;
    if (d > 0) return h('span', { class: 'chg up', title: t('up') }, '▲' + d);
    if (d < 0) return h('span', { class: 'chg down', title: t('down') }, '▼' + (-d));
    return h('span', { class: 'chg same', title: t('nochg') }, '–');
  }
  function uncView() { return D.uncertainty && D.uncertainty.view ? D.uncertainty.view : null; }
  function uncRanks() { // [[q05, q95] per unit] for the selected year, from the uncertainty analysis
    var U = uncView();
    if (!U || !U.ranks || !U.ranks.q05_rank) return null;
    var lo = U.ranks.q05_rank[S.yi], hi = U.ranks.q95_rank[S.yi];
    return CODES.map(function (_, n) { return lo[n] == null || hi[n] == null ? null : [lo[n], hi[n]]; });
  }
  function rwMode() { return RW.mode || (RW.exact ? 'exact' : 'approx'); }
  function pctw(x) { return Math.abs(x - Math.round(x)) < 0.05 ? fmt(x, 0) + '%' : fmt(x, 1) + '%'; }
  function rwPanel() {
    var P = RW.pillars, mode = rwMode();
    var modeText = mode === 'exact' ? t('rw_exact', aggName(RW.method))
      : mode === 'replace' ? t('rw_replace', aggName(RW.method), wmethod(RW.weights_method))
      : t('rw_approx', RW.weights_method === 'bod' ? t('rw_approx_bod') : t('rw_approx_agg', aggName(RW.method)));
    var status = h('div', { class: 'status', id: 'rw-status', 'aria-live': 'polite' });
    var vals = [];
    function showShares() {
      var tot = npsum(S.w.map(Number));
      vals.forEach(function (b, i) { b.textContent = tot > 0 ? pctw(100 * S.w[i] / tot) : '–'; });
    }
    function update(quiet) {
      var same = S.w.every(function (v, i) { return Number(v) === RW.slider[i]; });
      var tot = npsum(S.w.map(Number)), was = S.rwOn;
      showShares();
      if (same || !(tot > 0)) { S.rwOn = false; status.textContent = t('rw_status_pub'); }
      else {
        recompute(); S.rwOn = true;
        var moved = 0, ti = S.yi;
        for (var n = 0; n < N; n++) if (S.rwRanks[ti][n] !== D.ranks[D.root][ti][n]) moved++;
        status.textContent = t('rw_status_new', moved);
      }
      var sec = document.getElementById('sec-ranking');
      if (sec && sec.firstChild._fill) sec.firstChild._fill();
      if (!quiet) derivedChanged(was !== S.rwOn);
    }
    var sliders = P.map(function (p, i) {
      var v = h('b', null, '');
      vals.push(v);
      var inp = h('input', { type: 'range', min: 0, max: 100, step: 1, value: S.w[i], 'data-pillar': p, 'aria-label': nlabel(p) });
      inp.addEventListener('input', function () { S.w[i] = Number(inp.value); update(); });
      return h('div', { class: 'slider' }, h('label', null, h('span', null, nlabel(p)), v), inp);
    });
    var byYear = null;
    if (RW.varies_by_year) {
      byYear = h('details', { class: 'rw-years' }, h('summary', null, t('rw_years_h')),
        h('table', { class: 'plain' }, h('thead', null, h('tr', null, h('th', null, t('col_year')), P.map(function (p) { return h('th', { class: 'num' }, nlabel(p)); }))),
          h('tbody', null, YEARS.map(function (y, ti) {
            return h('tr', null, h('td', null, String(y)), P.map(function (_, i) { return h('td', { class: 'num' }, pct(RW.used[ti][i], 1)); }));
          }))));
    }
    var panel = h('aside', { class: 'panel rw', id: 'reweight' },
      h('h3', null, t('rw_h')), h('p', { class: 'sub' }, t('rw_lede')),
      h('span', { class: 'pill ' + (mode === 'exact' ? 'exact' : mode === 'replace' ? 'replace' : 'approx'), id: 'rw-mode', 'data-mode': mode }, modeText),
      RW.varies_by_year ? h('p', { class: 'sub', id: 'rw-years' }, t('rw_years')) : null, byYear,
      RW.unit_specific ? h('p', { class: 'sub' }, t('rw_unit')) : null,
      sliders,
      h('div', { class: 'btns' },
        h('button', { class: 'btn', id: 'rw-reset', onclick: function () { S.w = RW.slider.slice(); syncSliders(); update(); } }, t('rw_reset')),
        h('button', { class: 'btn', id: 'rw-equal', onclick: function () { S.w = P.map(function () { return 50; }); syncSliders(); update(); } }, t('rw_equal'))),
      status);
    function syncSliders() { panel.querySelectorAll('input[type=range]').forEach(function (el, i) { el.value = S.w[i]; }); }
    setTimeout(function () { showShares(); if (S.rwOn) update(true); else status.textContent = t('rw_status_pub'); }, 0);
    return panel;
  }
  // views derived from the index scores follow the sliders (map, rank chart; profiles when opened); the others
  // say that they show the published result. Redrawn shortly after the last slider move.
  var derivedTimer = null, derivedToggle = false;
  function derivedChanged(toggled) {
    derivedToggle = derivedToggle || toggled;
    if (derivedTimer) clearTimeout(derivedTimer);
    derivedTimer = setTimeout(function () {
      derivedTimer = null;
      rerender('map'); rerender('trend');
      if (derivedToggle) { ['pattern', 'uncertainty', 'explain'].forEach(rerender); refreshFindings(); }
      derivedToggle = false;
    }, 150);
  }
  function rwBanner(updated) {
    if (!S.rwOn) return null;
    return updated ? h('div', { class: 'rwtag', role: 'note' }, t('rw_tag')) : h('div', { class: 'note rwpub', role: 'note' }, t('rw_pub_note'));
  }

  /* ---------------------------------------------------------------------------------- map */
  var MAPS = {};
  function decodeRings(list, q) {
    return list.map(function (flat) {
      var pts = [], x = 0, y = 0;
      for (var i = 0; i < flat.length; i += 2) { x += flat[i]; y += flat[i + 1]; pts.push([x / q, y / q]); }
      return pts;
    });
  }
  function ensureMap() {
    if (MAPS.units !== undefined) return MAPS.units;
    var M = D.map;
    if (!M || M.error) { MAPS.units = null; return null; }
    var feats = M.features.map(function (f) {
      var polys = f.p.map(function (rings) { return decodeRings(rings, M.quant); });
      return { type: 'Feature', properties: { name: f.code }, geometry: { type: 'MultiPolygon', coordinates: polys } };
    });
    E.registerMap('dc-units', { type: 'FeatureCollection', features: feats });
    MAPS.units = 'dc-units';
    MAPS.outlines = {};
    Object.keys(M.outlines || {}).forEach(function (col) {
      MAPS.outlines[col] = M.outlines[col].map(function (g) { return { group: g.group, lines: decodeRings(g.lines, M.quant) }; });
    });
    MAPS.prov = M.province_lines ? decodeRings(M.province_lines, M.quant) : null;
    MAPS.names = {}; M.features.forEach(function (f) { MAPS.names[f.code] = [f.name, f.name_en || f.name]; });
    return MAPS.units;
  }
  function areaName(code) { var n = MAPS.names && MAPS.names[code]; return n ? n[S.lang === 'zh' ? 0 : 1] : code; }
  // side of the square ECharts fits the map into: as wide as the box allows without overflowing its height
  // (China is about 1.3 times wider than tall on this projection)
  function mapSize(el, f) { var w = el ? el.clientWidth : 0, hh = el ? el.clientHeight : 0; return w && hh ? Math.round(f * Math.min(w, 1.3 * hh)) : '95%'; }
  function mapOption(values, opts) {
    // values: {code: number|string}; opts: {pieces, min, max, tip(code) -> lines, outline col}
    var data = Object.keys(values).map(function (c) { return { name: c, value: values[c] }; });
    var series = [{ type: 'map', map: 'dc-units', geoIndex: 0, data: data }];
    var prov = (MAPS.prov || []).map(function (l) { return { coords: l }; });
    if (prov.length) series.push({ type: 'lines', coordinateSystem: 'geo', polyline: true, silent: true, large: false, data: prov,
      lineStyle: { width: 0.7, color: '#8d877c', opacity: 0.9 }, z: 4, animation: false });
    var outl = [];
    if (opts.outline && MAPS.outlines[opts.outline]) MAPS.outlines[opts.outline].forEach(function (g) {
      g.lines.forEach(function (l) { outl.push({ coords: l }); });
    });
    if (outl.length) series.push({ type: 'lines', coordinateSystem: 'geo', polyline: true, silent: true, large: false, data: outl,
      lineStyle: { width: 2, color: '#1c1d21', opacity: 0.95 }, z: 5, animation: false });
    var vm = opts.pieces ? { type: 'piecewise', pieces: opts.pieces, orient: 'horizontal', left: 'center', bottom: 0, itemWidth: 14, itemHeight: 10, textStyle: { color: '#4a4d55' }, seriesIndex: 0 }
      : { type: 'continuous', min: opts.min, max: opts.max, inRange: { color: SEQ }, text: [fmt(opts.max), fmt(opts.min)], calculable: false,
        left: 10, bottom: 20, itemHeight: 120, itemWidth: 12, textStyle: { color: '#4a4d55' }, seriesIndex: 0 };
    var narrow = opts.el && opts.el.clientWidth < 700;
    if (narrow && !opts.pieces) Object.assign(vm, { orient: 'horizontal', left: 'center', bottom: 0, itemHeight: 160, itemWidth: 10, text: [fmt(opts.max), fmt(opts.min)] });
    return {
      tooltip: tooltip(function (p) { if (p.seriesType !== 'map') return ''; return tip(opts.tip(p.name)); }),
      visualMap: vm,
      geo: { map: 'dc-units', roam: true, scaleLimit: { min: 0.8, max: 12 }, zoom: 1, aspectScale: 0.82,
        layoutCenter: ['50%', opts.pieces || narrow ? '45%' : '50%'], layoutSize: mapSize(opts.el, opts.pieces || narrow ? 0.86 : 0.96),
        itemStyle: { areaColor: '#ece8e1', borderColor: '#ffffff', borderWidth: 0.5 },
        emphasis: { itemStyle: { areaColor: '#f2c14e' }, label: { show: false } }, select: { disabled: true }, label: { show: false } },
      series: series
    };
  }
  function secMap(root) {
    add(root, [h('h2', null, t('map_h')), h('p', { class: 'lede' }, t('map_lede'))]);
    if (!D.map) { root.appendChild(absent(D.map_reason === 'nogeo' ? t('map_nogeo') : t('map_none'))); return; }
    if (D.map.error) { root.appendChild(absent(t('map_err', D.map.error))); return; }
    var nodes = [D.root].concat(D.pillars).map(function (c) { return [c, nlabel(c)]; });
    var outl = [['', t('none')]].concat(D.group_defs.filter(function (g) { return D.map.outlines[g.col]; }).map(function (g) { return [g.col, g[S.lang]]; }));
    root.appendChild(h('div', { class: 'controls' },
      ctl(t('node'), sel(nodes, S.mapNode, function (v) { S.mapNode = v; rerender('map'); }, t('node'))),
      ctl(t('outline'), sel(outl, S.outline, function (v) { S.outline = v; rerender('map'); }, t('outline')))));
    var ti = S.yi;
    var el = chart('map', function (box) {
      ensureMap();
      var vals = {}, mn = Infinity, mx = -Infinity;
      for (var n = 0; n < N; n++) {
        var v = S.mapNode === D.root ? curScore(ti, n) : D.scores[S.mapNode][ti][n];
        if (v == null || isNaN(v)) continue;
        vals[CODES[n]] = v; if (v < mn) mn = v; if (v > mx) mx = v;
      }
      if (!(mx > mn)) { mn = mn === Infinity ? 0 : mn; mx = mn + 1; }
      return mapOption(vals, { el: box, min: mn, max: mx, outline: S.outline, tip: function (code) {
        var n = IDX[code];
        if (n === undefined) return [areaName(code), t('no_data')];
        var r = S.mapNode === D.root ? curRank(ti, n) : D.ranks[S.mapNode][ti][n];
        var v = vals[code];
        return [uname(n), nlabel(S.mapNode) + colon() + fmt(v), t('rank_of', r == null ? '–' : r) + ' / ' + N];
      } });
    });
    el.setAttribute('aria-label', t('map_h') + ' ' + nlabel(S.mapNode) + ' ' + YEARS[ti]);
    el._click = function (p) { if (p.seriesType === 'map' && IDX[p.name] !== undefined) location.hash = '#unit=' + encodeURIComponent(p.name); };
    var rwd = S.rwOn && S.mapNode === D.root;
    if (rwd) root.appendChild(rwBanner(true));
    root.appendChild(h('figure', { class: 'fig' }, el, h('figcaption', { id: 'map-caption' },
      nlabel(S.mapNode) + comma() + (S.lang === 'zh' ? YEARS[ti] + '年' : YEARS[ti]) + (rwd ? comma() + t('rw_tag') : '') + stop() +
      t('map_cov', D.map.coverage[0], D.map.coverage[1]) + stop() + t('map_src'))));
  }

  /* ------------------------------------------------------------------------------- trends */
  function secTrend(root) {
    add(root, [h('h2', null, t('trend_h')), h('p', { class: 'lede' }, t('trend_lede'))]);
    if (T < 2) { root.appendChild(absent(t('trend_one'))); return; }
    var opts = CODES.map(function (c, i) { return [c, uname(i)]; }).sort(function (a, b) { return a[1].localeCompare(b[1], S.lang === 'zh' ? 'zh-CN' : 'en'); });
    root.appendChild(h('div', { class: 'controls' }, ctl(t('highlight'), sel([['', t('none')]].concat(opts), S.hl, function (v) { S.hl = v; rerender('trend'); }, t('highlight')))));
    var BIG = N > 40;
    if (S.rwOn) root.appendChild(rwBanner(true));
    var el = chart('tall', function () {
      var R = S.rwOn ? S.rwRanks : D.ranks[D.root], last = R[T - 1];
      var byRank = CODES.map(function (_, i) { return i; }).filter(function (i) { return last[i] != null; })
        .sort(function (a, b) { return last[a] - last[b]; });
      var top = byRank.slice(0, 10), shown = BIG ? byRank.slice(0, 15) : CODES.map(function (_, i) { return i; });
      var hl = S.hl ? IDX[S.hl] : -1, series = [], ymax = N;
      if (hl >= 0 && shown.indexOf(hl) < 0) shown.push(hl);
      if (BIG) {
        ymax = 30;
        if (hl >= 0) R.forEach(function (r) { if (r[hl] != null && r[hl] > ymax) ymax = r[hl]; });
        ymax = Math.min(N, ymax);
      }
      shown.forEach(function (n) {
        var isTop = top.indexOf(n) >= 0, isHl = n === hl;
        var col = isHl ? '#b4441b' : isTop ? PAL[top.indexOf(n) % PAL.length] : '#c4bdb2';
        series.push({ type: 'line', name: CODES[n], data: R.map(function (r) { return r[n]; }), symbol: 'circle',
          symbolSize: isTop || isHl ? 6 : 4, showSymbol: isTop || isHl || BIG, z: isHl ? 4 : isTop ? 3 : 1, connectNulls: false,
          lineStyle: { width: isHl ? 3.5 : isTop ? 2.4 : 1.2, color: col, opacity: isTop || isHl ? 1 : 0.8 }, itemStyle: { color: col },
          emphasis: { focus: 'series', lineStyle: { width: 3.5 } }, clip: true, labelLayout: { moveOverlap: 'shiftY' },
          endLabel: { show: isTop || isHl || BIG, formatter: (function (name) { return function () { return name; }; })(uname(n)),
            color: isTop || isHl ? col : '#7b7f88', fontWeight: isTop || isHl ? 600 : 400, fontSize: 12 } });
      });
      return {
        grid: baseGrid({ right: 130, left: 40 }),
        tooltip: tooltip(function (p) { var n = IDX[p.seriesName]; return tip([uname(n), YEARS[p.dataIndex] + colon() + t('rank_of', p.value)]); }),
        xAxis: axis({ type: 'category', data: YEARS.map(String), boundaryGap: false }),
        yAxis: axis({ type: 'value', inverse: true, min: 1, max: ymax, interval: ymax > 60 ? 20 : ymax > 20 ? 5 : 1 }),
        series: series
      };
    });
    el.setAttribute('aria-label', t('trend_h'));
    el._click = function (p) { if (IDX[p.seriesName] !== undefined) location.hash = '#unit=' + encodeURIComponent(p.seriesName); };
    root.appendChild(h('figure', { class: 'fig' }, el, BIG ? h('figcaption', null, t('trend_big', N)) : null));
  }

  /* ------------------------------------------------------------------------------ pattern */
  function rows(f, pred) { var out = [], k = Object.keys(f), n = f[k[0]].length; for (var i = 0; i < n; i++) { var r = {}; k.forEach(function (c) { r[c] = f[c][i]; }); if (!pred || pred(r)) out.push(r); } return out; }
  function secPattern(root) {
    add(root, [h('h2', null, t('pat_h')), h('p', { class: 'lede' }, t('pat_lede')), rwBanner(false)]);
    var PT = D.pattern;
    if (!PT) { root.appendChild(absent(t('pat_absent'))); return; }
    (PT.errors || []).forEach(function (e) { root.appendChild(h('div', { class: 'warn' }, t('err_read', e))); });
    var grps = Object.keys(PT.groups);
    if (!grps.length) { root.appendChild(absent(t('pat_absent'))); return; }
    var g = PT.groups[S.grp] ? S.grp : grps[0];
    var nodesAvail = Object.keys(PT.groups[g]);
    var node = PT.groups[g][S.patNode] ? S.patNode : (PT.groups[g][D.root] ? D.root : nodesAvail[0]);
    root.appendChild(h('div', { class: 'controls' },
      ctl(t('grouping'), sel(grps.map(function (x) { return [x, gcolname(x)]; }), g, function (v) { S.grp = v; S.gf = ''; rerender('pattern'); rerender('ranking'); }, t('grouping'))),
      ctl(t('node'), sel(nodesAvail.map(function (c) { return [c, nlabel(c)]; }), node, function (v) { S.patNode = v; rerender('pattern'); }, t('node')))));
    var P = PT.groups[g][node], NL = PT.nodes[node] || {};
    var grid = h('div', { class: 'grid2' });
    root.appendChild(grid);
    // group means
    grid.appendChild(fig(t('grad_h'), t('grad_sub', nlabel(node)), P.group_stats ? chart('', function () { return gradOption(P.group_stats, g); }) : absent(t('absent_generic', t('grad_h')))));
    // inequality
    grid.appendChild(fig(t('ineq_h'), t('ineq_sub'), NL.inequality ? chart('', function () { return ineqOption(NL.inequality); }) : absent(t('absent_generic', t('ineq_h')))));
    // dagum
    grid.appendChild(fig(t('dagum_h'), t('dagum_sub'), P.dagum_components ? chart('', function () { return dagumOption(P.dagum_components, P.dagum_ci); }) : absent(t('absent_generic', t('dagum_h')))));
    // kde
    grid.appendChild(fig(t('kde_h'), t('kde_sub'), NL.kde_density ? chart(T > 6 ? 'tall' : '', function () { return kdeOption(NL.kde_density); }) : absent(t('absent_generic', t('kde_h')))));
    // moran + lisa
    var ti = S.yi, yr = YEARS[ti];
    if (NL.lisa && NL.moran) {
      var mo = rows(NL.moran, function (r) { return r.year === yr; })[0] || {};
      grid.appendChild(fig(t('moran_h'), t('moran_sub', yr, fmt(mo.I, 3), fmt(mo.p_sim != null ? mo.p_sim : mo.p_norm, 3)),
        NL.scatter && (NL.scatter.z || NL.scatter.from_lisa) ? [legendRow([['HH', t('HH')], ['LL', t('LL')], ['HL', t('HL')], ['LH', t('LH')], ['ns', t('ns')]]),
          chart('', function () { return moranOption(NL, ti, mo.I); })] : absent(t('absent_generic', t('moran_h')))));
      var lisaEl = D.map && !D.map.error ? chart('', function (box) { ensureMap(); return lisaOption(NL.lisa, yr, box); }) : absent(D.map ? t('map_err', D.map.error) : t('map_none'));
      if (lisaEl._make) lisaEl._click = function (p) { if (p.seriesType === 'map' && IDX[p.name] !== undefined) location.hash = '#unit=' + encodeURIComponent(p.name); };
      grid.appendChild(fig(t('lisa_h'), t('lisa_sub', yr), lisaEl));
    } else if (NL.moran) { // Moran's I without local statistics (e.g. LISA not computed for a pillar)
      grid.appendChild(fig(t('moran_t_h'), t('moran_t_sub'), chart('', function () { return moranTrendOption(NL.moran); })));
      grid.appendChild(fig(t('lisa_h'), '', absent(t('lisa_absent'))));
    } else {
      grid.appendChild(fig(t('moran_h'), '', absent(t('spatial_absent'))));
      grid.appendChild(fig(t('lisa_h'), '', absent(t('spatial_absent'))));
    }
    // markov
    var mk = P.results && (P.results.markov || null);
    var shor = mk ? mk.shorrocks_mobility : (PT.groups[g][node].results || {}).markov;
    var kcls = mk && mk.k ? mk.k : (NL.markov_transitions ? 1 + Math.max.apply(null, NL.markov_transitions.to_class.concat(NL.markov_transitions.from_class)) : 0);
    grid.appendChild(fig(t('markov_h'), NL.markov_transitions ? (kcls === 4 ? t('markov_sub4', fmt(mk ? mk.shorrocks_mobility : null, 3)) : t('markov_sub', fmt(mk ? mk.shorrocks_mobility : null, 3), kcls)) : '',
      NL.markov_transitions ? chart('', function () { return markovOption(NL.markov_transitions, NL.markov_classes); }) : absent(T > 1 ? t('absent_generic', t('markov_h')) : t('markov_one'))));
    void shor;
    // gap trends + convergence text
    var txt = h('div', null);
    if (P.gap_trends) {
      var gt = rows(P.gap_trends, function (r) { return r.measure === 'gap'; });
      txt.appendChild(h('table', { class: 'plain' }, h('thead', null, h('tr', null, h('th', null, t('col_group')), h('th', null, YEARS[0] + ''), h('th', null, YEARS[T - 1] + ''), h('th', null, t('per_year')), h('th', null, ''))),
        h('tbody', null, gt.map(function (r) {
          return h('tr', null, h('td', null, glabel(g, r.group_a) + ' − ' + glabel(g, r.group_b)), h('td', { class: 'num' }, fmt(r.first)), h('td', { class: 'num' }, fmt(r.last)),
            h('td', { class: 'num' }, r.slope == null ? '–' : fmt(r.slope, 2) + ' [' + fmt(r.ci_low, 2) + ', ' + fmt(r.ci_high, 2) + ']'), h('td', { class: 'gtag' }, verdict(r.verdict)));
        }))));
    }
    if (!P.gap_trends && P.group_gaps) {
      var gg = rows(P.group_gaps, function (r) { return r.year === YEARS[S.yi]; });
      if (gg.length) txt.appendChild(h('table', { class: 'plain' }, h('thead', null, h('tr', null, h('th', null, t('col_group')), h('th', null, t('gap_pts')), h('th', null, t('gap_ratio')))),
        h('tbody', null, gg.map(function (r) {
          return h('tr', null, h('td', null, glabel(g, r.group_a) + ' − ' + glabel(g, r.group_b)), h('td', { class: 'num' }, fmt(r.gap)), h('td', { class: 'num' }, fmt(r.ratio, 2) + '×'));
        }))));
    }
    grid.appendChild(fig(P.gap_trends ? t('gaps_h') : t('gaps_h1', YEARS[S.yi]), '', txt.childNodes.length ? txt : absent(t('absent_generic', t('gaps_h')))));
    if (P.dagum_groups) root.appendChild(dagumTables(P, g));
    var notes = (P.notes || []);
    if (notes.length) root.appendChild(h('div', { class: 'note pat-notes' }, h('b', null, t('notes_pat')), origEn(notes, true)));
  }
  // the Dagum decomposition as Chinese regional studies tabulate it: by year, the overall Gini, the within-group
  // Gini of every group, the between-group Gini of every pair and the contribution shares of the three parts
  function dagumTables(P, g) {
    var dgs = rows(P.dagum_groups), dps = P.dagum_pairs ? rows(P.dagum_pairs) : [], dc = P.dagum_components ? rows(P.dagum_components) : [];
    var def = D.group_defs.filter(function (x) { return x.col === g; })[0];
    var groups = []; dgs.forEach(function (r) { if (groups.indexOf(r.group) < 0) groups.push(r.group); });
    if (def) groups.sort(function (a, b) { return def.values.findIndex(function (v) { return v.v === a; }) - def.values.findIndex(function (v) { return v.v === b; }); });
    // a pair is the same whichever group the file lists first (the order can change between years)
    function pkey(a, b) { return groups.indexOf(a) <= groups.indexOf(b) ? a + '\u0000' + b : b + '\u0000' + a; }
    var pairs = []; dps.forEach(function (r) { var k = pkey(r.group_j, r.group_h); if (pairs.indexOf(k) < 0) pairs.push(k); });
    pairs.sort(function (a, b) { var x = a.split('\u0000'), y = b.split('\u0000'); return groups.indexOf(x[0]) - groups.indexOf(y[0]) || groups.indexOf(x[1]) - groups.indexOf(y[1]); });
    var years = YEARS.filter(function (y) { return dgs.some(function (r) { return r.year === y; }); });
    function comp(y, c, key) { var r = dc.filter(function (x) { return x.year === y && x.component === c; })[0]; return r ? r[key] : null; }
    var head1 = [h('th', { rowspan: 2 }, t('col_year')), h('th', { rowspan: 2, class: 'num' }, t('dg_total'))];
    head1.push(h('th', { colspan: groups.length, class: 'grp' }, t('dg_within') + ' G_jj'));
    if (pairs.length) head1.push(h('th', { colspan: pairs.length, class: 'grp' }, t('dg_between') + ' G_jh'));
    head1.push(h('th', { colspan: 3, class: 'grp' }, t('dg_contrib')));
    var head2 = groups.map(function (x) { return h('th', { class: 'num' }, glabel(g, x)); })
      .concat(pairs.map(function (k) { var p = k.split('\u0000'); return h('th', { class: 'num' }, glabel(g, p[0]) + '–' + glabel(g, p[1])); }))
      .concat(['Gw', 'Gnb', 'Gt'].map(function (c) { return h('th', { class: 'num' }, t(c)); }));
    var body = years.map(function (y) {
      var tds = [h('td', null, String(y)), h('td', { class: 'num' }, fmt(comp(y, 'G', 'value'), 3))];
      groups.forEach(function (x) { var r = dgs.filter(function (q) { return q.year === y && q.group === x; })[0]; tds.push(h('td', { class: 'num' }, r ? fmt(r.G_jj, 3) : '–')); });
      pairs.forEach(function (k) { var r = dps.filter(function (q) { return q.year === y && pkey(q.group_j, q.group_h) === k; })[0]; tds.push(h('td', { class: 'num' }, r ? fmt(r.G_jh, 3) : '–')); });
      ['Gw', 'Gnb', 'Gt'].forEach(function (c) { var v = comp(y, c, 'value'), G = comp(y, 'G', 'value'); tds.push(h('td', { class: 'num' }, v == null || !G ? '–' : pct(v / G, 1))); });
      return h('tr', null, tds);
    });
    return h('figure', { class: 'fig', id: 'dagum-table' }, h('h3', null, t('dg_h')), h('p', { class: 'sub' }, t('dg_sub')),
      h('div', { class: 'scroll' }, h('table', { class: 'plain dagum' }, h('thead', null, h('tr', null, head1), h('tr', null, head2)), h('tbody', null, body))),
      P.dagum_pairs_omitted ? h('p', { class: 'sub' }, t('dg_pairs_omitted')) : null);
  }
  function fig(title, sub, body) { return h('figure', { class: 'fig' }, h('h3', null, title), sub ? h('p', { class: 'sub' }, sub) : null, body); }
  function gradOption(gs, col) {
    var groups = [], def = D.group_defs.filter(function (x) { return x.col === col; })[0];
    var rs = rows(gs);
    rs.forEach(function (r) { if (groups.indexOf(r.group) < 0) groups.push(r.group); });
    if (def) groups.sort(function (a, b) { return def.values.findIndex(function (v) { return v.v === a; }) - def.values.findIndex(function (v) { return v.v === b; }); });
    if (T < 2) {
      var last = rs.slice().sort(function (a, b) { return b.mean - a.mean; });
      return { grid: baseGrid({ left: 90 }), tooltip: tooltip(function (p) { var r = last[p.dataIndex]; return tip([glabel(col, r.group), t('col_score') + colon() + fmt(r.mean), 'n = ' + r.n]); }),
        xAxis: axis({ type: 'value' }), yAxis: axis({ type: 'category', inverse: true, data: last.map(function (r) { return glabel(col, r.group); }) }),
        series: [{ type: 'bar', data: last.map(function (r, i) { return { value: r.mean, itemStyle: { color: PAL[groups.indexOf(r.group) % PAL.length] } }; }), barWidth: '55%',
          label: { show: true, position: 'right', formatter: function (p) { return fmt(p.value); }, color: '#4a4d55' } }] };
    }
    return { grid: baseGrid({ right: 100 }), tooltip: tooltip(null, { trigger: 'axis', formatter: function (ps) {
      return tip([String(ps[0].axisValue)].concat(ps.slice().sort(function (a, b) { return b.value - a.value; }).map(function (p) { return p.seriesName + colon() + fmt(p.value); }))); } }),
      xAxis: axis({ type: 'category', data: YEARS.map(String), boundaryGap: false }), yAxis: axis({ type: 'value', scale: false }),
      series: groups.map(function (gname, i) {
        return { type: 'line', name: glabel(col, gname), data: YEARS.map(function (y) { var r = rs.filter(function (x) { return x.year === y && x.group === gname; })[0]; return r ? r.mean : null; }),
          lineStyle: { width: 2.6, color: PAL[i % PAL.length] }, itemStyle: { color: PAL[i % PAL.length] }, symbolSize: 5,
          labelLayout: { moveOverlap: 'shiftY' }, endLabel: { show: true, formatter: function (p) { return p.seriesName; }, color: PAL[i % PAL.length], fontWeight: 600 } };
      }) };
  }
  function ineqOption(q) {
    var ms = ['gini', 'theil_t', 'theil_l'], names = { gini: t('m_gini'), theil_t: t('m_theil_t'), theil_l: t('m_theil_l') };
    var rs = rows(q, function (r) { return r.weighted === false || r.weighted === 'False'; });
    var cat = T < 2;
    return { grid: baseGrid({ top: 40 }), legend: { top: 0, left: 0, textStyle: { color: '#4a4d55' } }, tooltip: tooltip(null, { trigger: 'axis', formatter: function (ps) { return tip([String(ps[0].axisValue)].concat(ps.map(function (p) { return p.seriesName + colon() + fmt(p.value, 3); }))); } }),
      xAxis: axis({ type: 'category', data: YEARS.map(String), boundaryGap: cat }), yAxis: axis({ type: 'value' }),
      series: ms.map(function (m, i) {
        return { type: cat ? 'bar' : 'line', name: names[m], data: YEARS.map(function (y) { var r = rs.filter(function (x) { return x.year === y && x.measure === m; })[0]; return r ? r.value : null; }),
          lineStyle: { width: 2.4, color: PAL[i] }, itemStyle: { color: PAL[i] }, symbolSize: 5 };
      }) };
  }
  function dagumOption(dc, ci) {
    var rs = rows(dc), comps = ['Gw', 'Gnb', 'Gt'], cols = ['#7aa0c8', '#1f5c99', '#c9b9a3'];
    var civ = ci ? rows(ci, function (r) { return r.stat === 'G'; }) : [];
    var series = comps.map(function (c, i) {
      return { type: 'bar', stack: 'g', name: t(c), barMaxWidth: 46, itemStyle: { color: cols[i] },
        data: YEARS.map(function (y) { var r = rs.filter(function (x) { return x.year === y && x.component === c; })[0]; return r ? r.value : null; }) };
    });
    series.push({ type: 'line', name: t('G'), data: YEARS.map(function (y) { var r = rs.filter(function (x) { return x.year === y && x.component === 'G'; })[0]; return r ? r.value : null; }),
      lineStyle: { width: 0 }, symbol: 'diamond', symbolSize: 9, itemStyle: { color: '#1c1d21' } });
    return { grid: baseGrid({ top: 40 }), legend: { top: 0, left: 0, textStyle: { color: '#4a4d55' }, itemWidth: 12, itemHeight: 10 },
      tooltip: tooltip(null, { trigger: 'axis', formatter: function (ps) {
        var y = Number(ps[0].axisValue), c = civ.filter(function (r) { return r.year === y; })[0];
        var tot = ps.filter(function (p) { return p.seriesType === 'line'; })[0];
        return tip([String(y)].concat(ps.filter(function (p) { return p.seriesType === 'bar'; }).map(function (p) {
          return p.seriesName + colon() + fmt(p.value, 3) + (tot && tot.value ? ' (' + pct(p.value / tot.value) + ')' : ''); }),
          tot ? [t('G') + colon() + fmt(tot.value, 3) + (c ? ' [' + fmt(c.lower, 3) + ', ' + fmt(c.upper, 3) + ']' : '')] : [])); } }),
      xAxis: axis({ type: 'category', data: YEARS.map(String) }), yAxis: axis({ type: 'value' }), series: series };
  }
  function kdeOption(kd) {
    var rs = rows(kd), ys = YEARS.filter(function (y) { return rs.some(function (r) { return r.year === y; }); });
    var step = ys.length > 12 ? Math.ceil(ys.length / 12) : 1;
    ys = ys.filter(function (_, i) { return i % step === 0 || i === ys.length - 1; });
    var mx = 0; rs.forEach(function (r) { if (r.density > mx) mx = r.density; });
    var scale = ys.length > 1 ? 1.8 / mx : 1 / mx;
    var series = ys.map(function (y, i) {
      var off = ys.length - 1 - i, col = SEQ[Math.min(SEQ.length - 1, 3 + Math.round(5 * i / Math.max(1, ys.length - 1)))];
      return { type: 'line', name: String(y), smooth: false, symbol: 'none', z: 10 + i,
        data: rs.filter(function (r) { return r.year === y; }).map(function (r) { return [r.x, off + r.density * scale]; }),
        lineStyle: { color: '#1c1d21', width: 1 }, areaStyle: { color: col, opacity: 0.92, origin: off } };
    });
    return { grid: baseGrid({ left: 52 }), tooltip: tooltip(function (p) { return tip([p.seriesName]); }),
      xAxis: axis({ type: 'value', name: t('col_score'), nameLocation: 'middle', nameGap: 26 }),
      yAxis: axis({ type: 'value', min: 0, max: ys.length + 1, interval: 1, splitLine: { show: false },
        axisLabel: { color: '#55575d', formatter: function (v) { var i = ys.length - 1 - v; return ys[i] !== undefined ? String(ys[i]) : ''; } } }),
      series: series };
  }
  function moranTrendOption(mo) {
    var rs = rows(mo).sort(function (a, b) { return a.year - b.year; });
    return { grid: baseGrid(), tooltip: tooltip(function (p) { var r = rs[p.dataIndex]; return tip([String(r.year), "Moran's I = " + fmt(r.I, 3), 'p = ' + fmt(r.p_sim != null ? r.p_sim : r.p_norm, 3)]); }),
      xAxis: axis({ type: 'category', data: rs.map(function (r) { return String(r.year); }), boundaryGap: T < 2 }), yAxis: axis({ type: 'value' }),
      series: [{ type: T < 2 ? 'bar' : 'line', data: rs.map(function (r) { var p = r.p_sim != null ? r.p_sim : r.p_norm;
        return { value: r.I, itemStyle: { color: p <= 0.05 ? '#1f5c99' : '#b9b3a8' } }; }), lineStyle: { color: '#1f5c99', width: 2 }, symbolSize: 8, barMaxWidth: 40 }] };
  }
  function lisaCluster(lisa, yr) {
    var m = {}; rows(lisa, function (r) { return r.year === yr; }).forEach(function (r) { m[r.unit] = r.cluster || r.quadrant; }); return m;
  }
  function moranOption(NL, ti, I) {
    var yr = YEARS[ti], cl = lisaCluster(NL.lisa, yr), pts = [];
    var sc = NL.scatter, lz = {};
    if (sc.from_lisa) rows(NL.lisa, function (r) { return r.year === yr; }).forEach(function (r) { lz[r.unit] = [r.z, r.lag]; });
    for (var n = 0; n < N; n++) {
      var z = sc.from_lisa ? (lz[CODES[n]] || [])[0] : sc.z[ti][n], l = sc.from_lisa ? (lz[CODES[n]] || [])[1] : sc.lag[ti][n];
      if (z == null || l == null) continue;
      var c0 = cl[CODES[n]] || 'ns', sig = c0 !== 'ns';
      // significant clusters in their colour; the others as hollow grey rings (visible, but clearly not significant)
      pts.push({ value: [z, l], name: CODES[n], itemStyle: sig ? { color: LISA[c0], borderColor: '#fff', borderWidth: 0.5 }
        : { color: 'rgba(255,255,255,0.6)', borderColor: '#8d877c', borderWidth: 1.2 } });
    }
    var ext = 0; pts.forEach(function (p) { ext = Math.max(ext, Math.abs(p.value[0]), Math.abs(p.value[1])); }); ext = Math.ceil(ext * 1.05) || 1;
    return { grid: baseGrid(), tooltip: tooltip(function (p) { if (p.seriesType !== 'scatter') return ''; var n = IDX[p.name]; return tip([uname(n), 'z = ' + fmt(p.value[0], 2), 'Wz = ' + fmt(p.value[1], 2), t(cl[p.name] || 'ns')]); }),
      xAxis: axis({ type: 'value', min: -ext, max: ext, interval: 1, name: 'z', nameLocation: 'middle', nameGap: 24 }),
      yAxis: axis({ type: 'value', min: -ext, max: ext, interval: 1, name: 'Wz' }),
      series: [{ type: 'scatter', symbolSize: N > 100 ? 6 : 10, data: pts,
        markLine: { silent: true, symbol: 'none', lineStyle: { color: '#9a948a', type: 'solid', width: 1 }, label: { show: false }, data: [{ xAxis: 0 }, { yAxis: 0 }] } },
        { type: 'line', silent: true, symbol: 'none', data: I == null ? [] : [[-ext, -ext * I], [ext, ext * I]], lineStyle: { color: '#b4441b', width: 2 } }] };
  }
  function lisaOption(lisa, yr, box) {
    var cl = lisaCluster(lisa, yr), vals = {};
    Object.keys(cl).forEach(function (c) { vals[c] = cl[c]; });
    var order = ['HH', 'LL', 'HL', 'LH', 'ns'];
    var data = {}; Object.keys(vals).forEach(function (c) { data[c] = order.indexOf(vals[c]); });
    return mapOption(data, { el: box, outline: S.outline, pieces: order.map(function (k, i) { return { value: i, label: t(k), color: LISA[k] }; }),
      tip: function (code) { var n = IDX[code]; if (n === undefined) return [areaName(code), t('no_data')]; return [uname(n), t(vals[code] || 'ns')]; } });
  }
  function markovOption(tr, classes) {
    var rs = rows(tr), k = 0; rs.forEach(function (r) { k = Math.max(k, r.from_class + 1, r.to_class + 1); });
    var labels = []; for (var i = 0; i < k; i++) labels.push(t('cls', i + 1));
    return { grid: baseGrid({ left: 70, bottom: 50 }), tooltip: tooltip(function (p) { var r = rs[p.dataIndex]; return tip([labels[r.from_class] + ' → ' + labels[r.to_class], pct(r.prob, 1), 'n = ' + r.count]); }),
      xAxis: axis({ type: 'category', data: labels, name: t('to_cls'), nameLocation: 'middle', nameGap: 30, splitArea: { show: false } }),
      yAxis: axis({ type: 'category', data: labels, name: t('from_cls'), nameLocation: 'middle', nameGap: 58, nameRotate: 90, inverse: true }),
      visualMap: { show: false, min: 0, max: 1, inRange: { color: ['#f7f4ee', '#93badd', '#1f5c99', '#0b3463'] } },
      series: [{ type: 'heatmap', data: rs.map(function (r) { return { value: [r.to_class, r.from_class, r.prob], label: { color: r.prob > 0.45 ? '#ffffff' : '#1c1d21' } }; }),
        label: { show: true, formatter: function (p) { return fmt(100 * p.value[2], 0) + '%'; }, fontSize: 13 },
        itemStyle: { borderColor: '#faf8f4', borderWidth: 2 } }] };
  }

  /* ------------------------------------------------------------------- uncertainty / audit */
  function capFiles(name, cap) {
    var box = h('div', null, h('p', { class: 'sub' }, t('cap_files', name)));
    if (cap.error) { box.appendChild(h('div', { class: 'warn' }, t('err_read', cap.error))); return box; }
    Object.keys(cap.files || {}).forEach(function (f) {
      var v = cap.files[f];
      if (v && v.columns) {
        var cols = v.columns, data = v.data, n = data[cols[0]] ? data[cols[0]].length : 0;
        var tb = h('tbody');
        for (var i = 0; i < Math.min(n, 50); i++) tb.appendChild(h('tr', null, cols.map(function (c) { var x = data[c][i]; return h('td', { class: typeof x === 'number' ? 'num' : null }, x == null ? '' : String(x)); })));
        box.appendChild(h('details', { class: 'verbatim' }, h('summary', null, f + '.csv (' + v.n_rows + ')'), h('div', { class: 'scroll' }, h('table', { class: 'plain' }, h('thead', null, h('tr', null, cols.map(function (c) { return h('th', null, c); }))), tb))));
      } else {
        box.appendChild(h('details', { class: 'verbatim' }, h('summary', null, f + '.json'), h('pre', { class: 'yaml' }, JSON.stringify(v, null, 2))));
      }
    });
    return box;
  }
  function rawCap(name, cap) {
    var box = h('div', null);
    if (cap.error) box.appendChild(h('div', { class: 'warn' }, t('err_read', cap.error)));
    if (cap.raw) box.appendChild(capFiles(name, cap.raw));
    return box;
  }
  var AUDIT_ZH = {
    availability: '指标“{0}”在部分年份的数据覆盖率低于阈值，其插补值会影响结果。',
    outliers: '指标“{0}”在处理后仍高度偏斜：少数单元主导了它的标准化尺度。',
    treated: '以下指标存在异常值，经处理后已符合规则：{0}。',
    redundant: '“{0}”与“{1}”高度相关，可能重复计量同一方面。',
    conflict: '“{0}”与“{1}”负相关，在同一维度中相互抵消。',
    low_alpha: '“{0}”的内部一致性低（Cronbach α 低于阈值）：其子项并非衡量同一事物。',
    multidimensional: '“{0}”有不止一个特征值大于 1 的主成分：它不是单维的。',
    weight_mismatch_uncertain: '以下节点的有效重要性与名义权重之比超出 [0.5, 2]，但其自助法区间仍触及该范围，因此未标记为问题：{0}。',
    weight_mismatch: '“{0}”的有效重要性与名义权重明显不符（比率超出 [0.5, 2]）。'
  };
  var AUDIT_CNT = { availability: ['数据可得性低的指标', 'low-availability indicator(s)'], outliers: ['处理后仍高度偏斜的指标', 'highly skewed indicator(s)'],
    redundant: ['冗余指标对', 'redundant pair(s)'], conflict: ['冲突指标对', 'conflicting pair(s)'], low_alpha: ['内部一致性低的维度', 'group(s) with low Cronbach’s alpha'],
    weight_mismatch: ['权重与重要性不符', 'weight mismatch(es)'] };
  function whereLabel(w) { return String(w == null ? '' : w).split(/\s*[|,]\s*/).filter(Boolean).map(nlabel); }
  function auditMessage(p) {
    if (S.lang === 'en') return p.message || '';
    var tpl = AUDIT_ZH[p.kind], parts = whereLabel(p.where);
    if (!tpl) return null;
    if (tpl.indexOf('{1}') >= 0) return tpl.replace('{0}', parts[0] || '').replace('{1}', parts[1] || '');
    return tpl.replace('{0}', parts.length > 1 || p.kind === 'treated' || p.kind === 'weight_mismatch_uncertain' ? parts.join('、') : (parts[0] || ''));
  }
  function auditHeadline(V) {
    if (S.lang === 'en' && V.headline) return V.headline;
    var c = V.counts || {}, parts = [];
    Object.keys(AUDIT_CNT).forEach(function (k) { if (c[k]) parts.push(S.lang === 'zh' ? AUDIT_CNT[k][0] + ' ' + c[k] + ' 项' : c[k] + ' ' + AUDIT_CNT[k][1]); });
    var out = t('audit_head', D.indicators.length, V.year || YEARS[T - 1]) + colon() + (parts.length ? parts.join(S.lang === 'zh' ? '，' : ', ') : t('audit_none'));
    if (V.leave_one_out && V.leave_one_out.node) {
      var lo = rows(V.leave_one_out, function (r) { return r.level == null || r.level > 1; }).sort(function (a, b) { return b.mean_abs_shift - a.mean_abs_shift; })[0];
      if (lo) out += (S.lang === 'zh' ? '；' : '; ') + t('audit_loo_top', nlabel(lo.node), fmt(lo.mean_abs_shift, 2));
    }
    return out + (S.lang === 'zh' ? '。' : '.');
  }
  function uncHeadline(U, ti) {
    var sm = U.summary || {}, R = U.ranks, w = [];
    if (R.q05_rank && R.q95_rank) for (var n = 0; n < N; n++) { var a = R.q05_rank[ti][n], b = R.q95_rank[ti][n]; if (a != null && b != null) w.push(b - a); }
    var med = median(w);
    var out = t('unc_head', sm.n_draws == null ? '–' : sm.n_draws, sm.choices ? sm.choices.length : '–', sm.n_failed == null ? 0 : sm.n_failed, YEARS[ti], med == null ? '–' : rk1(med));
    var sv = U.sensitivity;
    if (sv && sv.factor && sv.factor.length) {
      var best = 0; for (var i = 1; i < sv.factor.length; i++) if ((sv.ST[i] || 0) > (sv.ST[best] || 0)) best = i;
      var parts = t('unc_head_most', '\u0000', fmt(sv.ST[best], 2)).split('\u0000');
      return [out + parts[0], h('span', { class: 'data' }, String(sv.factor[best])), parts[1] + (S.lang === 'zh' ? '。' : '.')];
    }
    return out + (S.lang === 'zh' ? '。' : '.');
  }
  function median(a) { a = a.filter(function (v) { return v != null && !isNaN(v); }).sort(function (x, y) { return x - y; }); var m = a.length >> 1; return a.length ? (a.length % 2 ? a[m] : (a[m - 1] + a[m]) / 2) : null; }
  function legendRow(items) {
    return h('div', { class: 'lgd' }, items.map(function (it) { return h('span', null, h('i', { class: 'sw-' + it[0] }), it[1]); }));
  }
  function secUncertainty(root) {
    add(root, [h('h2', null, t('unc_h')), h('p', { class: 'lede' }, t('unc_lede')), rwBanner(false)]);
    var C = D.uncertainty, U = uncView();
    if (!C) root.appendChild(absent(t('unc_absent')));
    else if (!U) root.appendChild(rawCap('uncertainty', C));
    else {
      var sm = U.summary || {}, ti = S.yi;
      if (U.stale) root.appendChild(h('div', { class: 'warn' }, t('unc_stale')));
      root.appendChild(h('p', { class: 'note', id: 'unc-headline' }, uncHeadline(U, ti)));
      var conv = sm.convergence && /^NOT converged/i.test(String(sm.convergence));
      if (conv) root.appendChild(h('div', { class: 'warn' }, t('unc_notconv')));
      if (S.lang === 'zh') root.appendChild(origEn([sm.headline, sm.convergence]));
      var g = h('div', { class: 'grid2' });
      root.appendChild(g);
      var order = CODES.map(function (_, i) { return i; }).filter(function (i) { return U.ranks.median_rank[ti][i] != null; })
        .sort(function (a, b) { return (U.ranks.nominal_rank[ti][a] || 1e9) - (U.ranks.nominal_rank[ti][b] || 1e9) || a - b; });
      var cap = 40, shown = order.slice(0, cap);
      var wh = chart('', function () { return whiskerOption(U, ti, shown); });
      wh.setAttribute('id', 'unc-whiskers');
      wh.style.height = Math.max(300, 22 * shown.length + 70) + 'px';
      var wfig = fig(t('unc_whisk_h'), t('unc_whisk_sub', YEARS[ti]) + (order.length > cap ? ' ' + t('unc_top', cap) : ''),
        [legendRow([['range', t('lg_range')], ['median', t('lg_median')], ['pub', t('lg_pub')]]), wh]);
      wfig.classList.add('span2');
      g.appendChild(wfig);
      var yr = YEARS[ti];
      var pairs = (U.pairs || []).filter(function (p) { return p[0] === yr; });
      var nIds = {}; pairs.forEach(function (p) { nIds[p[1]] = 1; nIds[p[2]] = 1; });
      var nShown = Object.keys(nIds).length, nAll = (U.pairs_n || {})[String(yr)];
      g.appendChild(fig(t('unc_pairs_h'), t('unc_pairs_sub', yr, nShown), pairs.length ? [chart('tall', function (box) { return pairsOption(pairs, ti, box); }),
        nAll && nAll > pairs.length ? h('p', { class: 'sub' }, t('unc_pairs_cap', fmt(nAll, 0), nShown, pairs.length)) : null] : absent(t('absent_generic', t('unc_pairs_h')))));
      var close = (U.close_calls || []).filter(function (p) { return p[0] === yr; });
      var side = h('div', null);
      if (close.length) add(side, [h('h3', null, t('unc_close_h')), h('p', { class: 'sub' }, t('unc_close_sub', yr)),
        h('ul', { class: 'plainlist', id: 'close-calls' }, close.map(function (p) { return h('li', null, t('unc_close_row', uname(p[1]), uname(p[2]), pct(p[3]), pct(p[4]))); }))]);
      // overtakes: the previous year to the selected one when available, else the first to the last year
      var ov = U.overtakes || [], yPrev = ti > 0 ? YEARS[ti - 1] : null;
      var spans = Object.keys(U.overtakes_n || {});
      var pairY = spans.indexOf(yPrev + '-' + yr) >= 0 ? [yPrev, yr] : spans.indexOf(YEARS[0] + '-' + YEARS[T - 1]) >= 0 ? [YEARS[0], YEARS[T - 1]]
        : spans.length ? spans[0].split('-').map(Number) : null;
      var likely = pairY ? ov.filter(function (o) { return o[0] === pairY[0] && o[1] === pairY[1]; }) : [];
      var nLikely = pairY ? (U.overtakes_n || {})[pairY[0] + '-' + pairY[1]] : 0;
      add(side, [h('h3', null, t('unc_over_h')), pairY ? h('p', { class: 'sub' }, likely.length ? t('unc_over_sub', pairY[0], pairY[1], nLikely == null ? likely.length : nLikely, likely.length) : t('unc_over_sub0', pairY[0], pairY[1])) : null,
        !U.overtakes ? absent(t('absent_generic', t('unc_over_h'))) :
          likely.length ? h('ul', { class: 'sw', id: 'overtakes' }, likely.map(function (x) { return h('li', null, h('b', null, t('unc_over_row', uname(x[2]), uname(x[3]))), h('span', null, 'P = ' + fmt(x[4], 2))); }))
            : h('p', null, t('unc_over_none'))]);
      g.appendChild(h('div', { class: 'fig' }, side));
      if (U.sensitivity && U.sensitivity.factor && U.sensitivity.factor.length) g.appendChild(fig(t('unc_sens_h'), t('unc_sens_sub'), chart('short', function () { return sensOption(U.sensitivity); })));
    }
    root.appendChild(h('h2', { class: 'h2b' }, t('audit_h')));
    var A = D.audit;
    if (!A) { root.appendChild(absent(t('audit_absent'))); return; }
    if (!A.view) { root.appendChild(rawCap('audit', A)); return; }
    var V = A.view;
    if (V.stale) root.appendChild(h('div', { class: 'warn' }, t('audit_stale')));
    root.appendChild(h('p', { class: 'note', id: 'audit-headline' }, auditHeadline(V)));
    if (S.lang === 'zh' && V.headline) root.appendChild(origEn([V.headline]));
    var probs = V.problems || [];
    if (!probs.length) root.appendChild(h('p', null, t('audit_none')));
    else root.appendChild(h('ul', { class: 'problems', id: 'audit-problems' }, probs.map(function (p) {
      var msg = auditMessage(p);
      return h('li', { class: 'sev-' + (p.severity || 'info') }, h('span', { class: 'pill sev' }, t('sev_' + (p.severity || 'info'))),
        h('span', { class: 'pill' }, auditKind(p.kind)), p.where ? h('span', { class: 'code' }, p.where) : null,
        msg != null ? h('div', null, msg) : null, S.lang === 'zh' ? origEn([p.message]) : null);
    })));
    var g2 = h('div', { class: 'grid2' });
    root.appendChild(g2);
    if (V.leave_one_out) g2.appendChild(fig(t('audit_loo_h'), t('audit_loo_sub'), chart('', function () { return looOption(V.leave_one_out); })));
    if (V.importance) g2.appendChild(fig(t('audit_imp_h'), t('audit_imp_sub'), chart('', function () { return impOption(V.importance); })));
  }
  function whiskerOption(U, ti, shown) {
    var R = U.ranks, names = shown.map(uname);
    var data = shown.map(function (n, i) { return [i, R.q05_rank[ti][n], R.q95_rank[ti][n], R.median_rank[ti][n], R.nominal_rank[ti][n]]; });
    return { grid: baseGrid({ left: 10, top: 10 }),
      tooltip: tooltip(function (p) { var d = data[p.dataIndex]; if (!d) return ''; return tip([names[d[0]], t('lg_pub') + colon() + rk1(d[4]), '5–95%: ' + rk1(d[1]) + '–' + rk1(d[2]), t('lg_median') + colon() + rk1(d[3])]); }),
      xAxis: axis({ type: 'value', min: 1, max: N, name: t('col_rank'), nameLocation: 'middle', nameGap: 24 }),
      yAxis: axis({ type: 'category', data: names, inverse: true, axisLabel: { color: '#1c1d21', fontSize: 12 } }),
      series: [{ type: 'custom', data: data, encode: { x: [1, 2, 3, 4], y: 0 }, renderItem: function (params, api) {
        var y = api.coord([api.value(1), api.value(0)])[1], a = api.coord([api.value(1), api.value(0)])[0], b = api.coord([api.value(2), api.value(0)])[0];
        var m = api.coord([api.value(3), api.value(0)]), nom = api.coord([api.value(4), api.value(0)]);
        return { type: 'group', children: [
          { type: 'line', shape: { x1: a, y1: y, x2: Math.max(b, a + 1), y2: y }, style: { stroke: '#93badd', lineWidth: 6, lineCap: 'round' } },
          { type: 'path', shape: { pathData: 'M0,-4L4,0L0,4L-4,0Z', x: nom[0] - 4, y: y - 4, width: 8, height: 8, layout: 'center' }, style: { fill: '#b4441b' } },
          { type: 'circle', shape: { cx: m[0], cy: y, r: 6 }, style: { fill: 'none', stroke: '#0b3463', lineWidth: 2 } }] };
      } }] };
  }
  function pairsOption(pairs, ti, box) {
    // rows and columns: the units ordered by published rank; cell (row a, column b) = P(a ranks above b); the two
    // probabilities of a pair add up to less than 1 when the units tie in some draws
    var ids = []; pairs.forEach(function (p) { if (ids.indexOf(p[1]) < 0) ids.push(p[1]); if (ids.indexOf(p[2]) < 0) ids.push(p[2]); });
    var pub = D.ranks[D.root][ti];
    ids.sort(function (a, b) { return (pub[a] || 1e9) - (pub[b] || 1e9) || a - b; });
    var data = [];
    pairs.forEach(function (p) { var i = ids.indexOf(p[1]), j = ids.indexOf(p[2]); data.push([j, i, p[3]]); data.push([i, j, p[4]]); });
    var names = ids.map(uname);
    return { grid: baseGrid({ left: 10, bottom: 10 }), tooltip: tooltip(function (p) { return tip([names[p.value[1]] + ' > ' + names[p.value[0]], 'P = ' + fmt(p.value[2], 2)]); }),
      xAxis: axis({ type: 'category', data: names, position: 'top', axisLabel: { rotate: 45, interval: 0, color: '#55575d', width: 110, overflow: 'truncate' } }),
      yAxis: axis({ type: 'category', data: names, inverse: true, axisLabel: { interval: 0, color: '#55575d', width: 120, overflow: 'truncate' } }),
      visualMap: { show: false, min: 0, max: 1, inRange: { color: ['#f7f4ee', '#93badd', '#1f5c99', '#0b3463'] } },
      series: [{ type: 'heatmap', data: data.map(function (d) { return { value: d, label: { color: d[2] > 0.55 ? '#fff' : '#1c1d21' } }; }),
        label: { show: ids.length <= 12 && (!box || box.clientWidth > 420), formatter: function (p) { return p.value[2] == null ? '' : fmt(p.value[2], 2); }, fontSize: 11 }, itemStyle: { borderColor: '#faf8f4', borderWidth: 1 } }] };
  }
  function sensOption(sv) {
    var rs = rows(sv);
    return { grid: baseGrid({ top: 34, left: 10 }), legend: { top: 0, left: 0, textStyle: { color: '#4a4d55' } },
      tooltip: tooltip(null, { trigger: 'axis', formatter: function (ps) { return tip([ps[0].axisValue].concat(ps.map(function (p) { var r = rs[p.dataIndex]; return p.seriesName + colon() + fmt(p.value, 2) + ' ± ' + fmt(p.seriesIndex ? r.ST_conf : r.S1_conf, 2); }))); } }),
      yAxis: axis({ type: 'category', data: rs.map(function (r) { return r.factor; }), inverse: true }), xAxis: axis({ type: 'value', min: 0, max: 1 }),
      series: [{ type: 'bar', name: 'S1', data: rs.map(function (r) { return Math.max(0, r.S1); }), itemStyle: { color: '#7aa0c8' }, barGap: '10%' },
        { type: 'bar', name: 'ST', data: rs.map(function (r) { return Math.max(0, r.ST); }), itemStyle: { color: '#1f5c99' } }] };
  }
  function looOption(lo) {
    var rs = rows(lo).sort(function (a, b) { return b.mean_abs_shift - a.mean_abs_shift; }).slice(0, 15);
    return { grid: baseGrid({ left: 10 }), tooltip: tooltip(function (p) { var r = rs[p.dataIndex]; return tip([nlabel(r.node), t('loo_mean') + colon() + fmt(r.mean_abs_shift, 2), t('loo_max') + colon() + r.max_abs_shift]); }),
      yAxis: axis({ type: 'category', inverse: true, data: rs.map(function (r) { return nlabel(r.node); }), axisLabel: { color: '#1c1d21' } }), xAxis: axis({ type: 'value' }),
      series: [{ type: 'bar', data: rs.map(function (r) { return { value: r.mean_abs_shift, itemStyle: { color: NODE[r.node] && !NODE[r.node].ind ? '#1f5c99' : '#93badd' } }; }), barMaxWidth: 16,
        label: { show: true, position: 'right', formatter: function (p) { return fmt(p.value, 2); }, color: '#4a4d55', fontSize: 11 } }] };
  }
  function impOption(im) {
    var rs = rows(im, function (r) { return r.importance_share != null; });
    var mx = 0; rs.forEach(function (r) { mx = Math.max(mx, r.importance_share, r.nominal_weight); });
    mx = Math.min(1, Math.ceil(mx * 10 + 0.5) / 10);
    var FL = { 'under-represented': ['代表性不足', 'under-represented'], 'over-represented': ['代表性过高', 'over-represented'] };
    function flagName(f) { return !f ? '' : FL[f] ? FL[f][LANG_I[S.lang]] : String(f); }
    return { grid: baseGrid(), tooltip: tooltip(function (p) { var r = rs[p.dataIndex]; if (!r) return ''; return tip([nlabel(r.node), t('nom_share') + colon() + pct(r.nominal_weight), t('imp_share') + colon() + pct(r.importance_share), flagName(r.flag)]); }),
      xAxis: axis({ type: 'value', min: 0, max: mx, name: t('nom_share'), nameLocation: 'middle', nameGap: 26, axisLabel: { formatter: function (v) { return pct(v); }, color: '#55575d' } }),
      yAxis: axis({ type: 'value', min: 0, max: mx, name: t('imp_share'), axisLabel: { formatter: function (v) { return pct(v); }, color: '#55575d' } }),
      series: [{ type: 'scatter', symbolSize: 11, data: rs.map(function (r) { return { value: [r.nominal_weight, r.importance_share], itemStyle: { color: r.flag ? '#b4441b' : '#1f5c99', opacity: 0.85 } }; }),
        label: { show: rs.length <= 16, position: 'right', formatter: function (p) { return nlabel(rs[p.dataIndex].node); }, color: '#4a4d55', fontSize: 11 },
        labelLayout: { hideOverlap: true },
        markLine: { silent: true, symbol: 'none', lineStyle: { color: '#9a948a', type: 'dashed' }, label: { show: false }, data: [[{ coord: [0, 0] }, { coord: [mx, mx] }]] } }] };
  }
  function secExplain(root) {
    add(root, [h('h2', null, t('exp_h')), rwBanner(false)]);
    var X = D.explain || {}, A = X.attribution;
    if (T < 2) { root.appendChild(absent(t('exp_one'))); return; }
    if (X.error) root.appendChild(h('div', { class: 'warn' }, t('err_read', X.error)));
    if (!A) root.appendChild(absent(t('exp_none', X.error ? '' : t('exp_na'))));
    else {
      var ti = S.yi > 0 && A.pillars[String(S.yi)] ? S.yi : T - 1;
      if (!A.pillars[String(ti)]) { root.appendChild(absent(t('exp_pick'))); }
      else {
        var P = A.pillars[String(ti)];
        var d = CODES.map(function (_, n) { var a = D.scores[D.root][0][n], b = D.scores[D.root][ti][n]; return [n, a == null || b == null ? null : b - a]; })
          .filter(function (x) { return x[1] != null; }).sort(function (a, b) { return b[1] - a[1]; });
        var big = d.length > 16, pick = big ? d.slice(0, 8).concat(d.slice(-8)) : d;
        var el = chart('', function () {
          var names = pick.map(function (x) { return uname(x[0]); });
          return { grid: baseGrid({ left: 10, top: 34, right: 30 }), legend: { top: 0, left: 0, textStyle: { color: '#4a4d55' } },
            tooltip: tooltip(null, { trigger: 'axis', axisPointer: { type: 'shadow' }, formatter: function (ps) { var n = pick[ps[0].dataIndex][0];
              return tip([uname(n) + colon() + (pick[ps[0].dataIndex][1] >= 0 ? '+' : '') + fmt(pick[ps[0].dataIndex][1], 2)].concat(ps.map(function (p) { return p.seriesName + colon() + (p.value >= 0 ? '+' : '') + fmt(p.value, 2); }))); } }),
            yAxis: axis({ type: 'category', inverse: true, data: names, axisLabel: { color: '#1c1d21', width: 160, overflow: 'truncate' } }), xAxis: axis({ type: 'value' }),
            series: D.pillars.map(function (p, j) { return { type: 'bar', stack: 'c', name: nlabel(p), itemStyle: { color: PAL[j % PAL.length] }, barMaxWidth: 18,
              data: pick.map(function (x) { return P[x[0]][j]; }) }; }) };
        });
        el.style.height = Math.max(320, 26 * pick.length + 80) + 'px';
        el.setAttribute('id', 'explain-drivers');
        var only = ti !== S.yi && S.yi > 0 ? h('div', { class: 'note' }, t('exp_only', YEARS[ti])) : null;
        root.appendChild(fig('', big ? t('exp_sub', YEARS[0], YEARS[ti], 8) : t('exp_sub_all', YEARS[0], YEARS[ti]), [only, el]));
      }
    }
    if (X.raw && !A) root.appendChild(capFiles('explain', X.raw));
  }

  /* ---------------------------------------------------------------------------- framework */
  function secFramework(root) {
    add(root, [h('h2', null, t('fw_h')), h('p', { class: 'lede' }, t('fw_lede'))]);
    var kids = {}; D.nodes.forEach(function (n) { if (n.parent) (kids[n.parent] = kids[n.parent] || []).push(n.code); });
    var top = D.nodes[0].level, tb = h('tbody');
    var maxEff = 0; D.nodes.forEach(function (n) { if (n.code !== D.root) maxEff = Math.max(maxEff, n.eff_nom || 0, n.eff || 0); });
    function wbar(v, cls, scale) { var b = h('span', { class: 'wbar ' + (cls || '') }); b.style.width = Math.round(80 * (v || 0) / (scale || 1)) + 'px'; return b; }
    (function walk(code, depth) {
      var n = NODE[code];
      var tr = h('tr', { class: n.code === D.root ? 'l-top' : n.ind ? 'l-ind' : 'l-agg' });
      var td = h('td', { class: 'fw-node' }, nlabel(code), h('span', { class: 'code' }, code));
      td.style.paddingLeft = (8 + 22 * depth) + 'px';
      tr.appendChild(td);
      var changed = Math.abs((n.w_used || 0) - (n.w_nom || 0)) > 1e-6;
      tr.appendChild(h('td', { class: 'fw-w' }, n.parent ? [wbar(n.w_nom, '', 1), pct(n.w_nom, 1), changed ? h('span', { class: 'wto' }, '→ ' + pct(n.w_used, 1)) : null] : ''));
      tr.appendChild(h('td', { class: 'fw-w' }, n.parent ? [h('span', { class: 'wpair' }, wbar(n.eff_nom, 'eff', maxEff), pct(n.eff_nom, 1)), h('span', { class: 'wpair' }, wbar(n.eff, 'used', maxEff), pct(n.eff, 1))] : '100%'));
      tr.appendChild(h('td', { class: 'fw-m' }, n.parent ? wmethod(n.method) : ''));
      tr.appendChild(h('td', { class: 'fw-m' }, n.ind ? (n.dir < 0 ? t('direction_neg') : t('direction_pos')) : ''));
      tr.appendChild(h('td', { class: 'gtag fw-u' }, n.unit || ''));
      tr.appendChild(h('td', { class: 'gtag fw-s' }, n.source || ''));
      tb.appendChild(tr);
      (kids[code] || []).forEach(function (c) { walk(c, depth + 1); });
    })(D.root, 0);
    void top;
    var sb = chart('tall', function () {
      function node(code, depth) {
        var nd = NODE[code], ch = kids[code] || [];
        var o = { name: nlabel(code), code: code, value: code === D.root ? 1 : (nd.eff || 0) };
        if (ch.length) o.children = ch.map(function (c) { return node(c, depth + 1); });
        return o;
      }
      var pillarsCol = {}; D.pillars.forEach(function (p, j) { pillarsCol[p] = PAL[j % PAL.length]; });
      var data = (kids[D.root] || []).map(function (c) { var o = node(c, 1); o.itemStyle = { color: pillarsCol[c] }; return o; });
      return { tooltip: tooltip(function (p) { var nd = NODE[p.data.code]; if (!nd) return ''; return tip([nlabel(nd.code), t('fw_eff') + colon() + pct(nd.eff_nom, 1) + ' / ' + pct(nd.eff, 1)]); }),
        series: [{ type: 'sunburst', data: data, radius: ['14%', '96%'], sort: null, nodeClick: false,
          itemStyle: { borderColor: '#faf8f4', borderWidth: 1.5 },
          label: { color: '#fff', fontSize: 11, minAngle: 12, overflow: 'truncate' },
          levels: [{}, { r0: '14%', r: '46%', label: { rotate: 'tangential', fontSize: 12, fontWeight: 600, width: 100, overflow: 'break', lineHeight: 14 } },
            { r0: '46%', r: '96%', itemStyle: { opacity: 0.6 }, label: { rotate: 'radial', color: '#1c1d21', fontSize: 11, width: 135, overflow: 'truncate' } }] }] };
    });
    sb.setAttribute('id', 'fw-sunburst');
    root.appendChild(fig(t('fw_sun'), t('fw_sun_sub'), sb));
    root.appendChild(h('div', { class: 'treebox' }, h('table', { class: 'tree', id: 'fw-tree' },
      h('thead', null, h('tr', null, [t('fw_node'), t('fw_w'), t('fw_eff'), t('fw_method'), t('fw_dir'), t('fw_unit'), t('fw_src')].map(function (x) { return h('th', null, x); }))), tb)));
  }

  /* ------------------------------------------------------------------------------ quality */
  function secQuality(root) {
    add(root, [h('h2', null, t('q_h')), h('p', { class: 'lede' }, t('q_lede'))]);
    var c = D.flags.counts || {};
    root.appendChild(h('p', null, t('q_counts', c.cells, c.missing_raw, D.flags.imputed.length, D.flags.treated.length)));
    var TR = D.flags.transforms || {}, trk = Object.keys(TR);
    if (trk.length) root.appendChild(h('div', { class: 'note', id: 'q-transforms' }, h('b', null, t('q_transforms') + colon()), t('q_transforms_sub') + ' ',
      trk.map(function (k, i) { var blocks = Object.keys(TR[k]); return [i ? (S.lang === 'zh' ? '、' : ', ') : '', nlabel(k) + (S.lang === 'zh' ? '（' : ' (') + treatName(TR[k][blocks[0]]) + (S.lang === 'zh' ? '，' : ', ') + blocks.map(scopeName).join('/') + (S.lang === 'zh' ? '）' : ')')]; })));
    var all = D.flags.imputed.map(function (f) { return ['imputed', f]; }).concat(D.flags.treated.map(function (f) { return ['treated', f]; }));
    if (!all.length) { root.appendChild(absent(t('q_none'))); }
    else {
      all.sort(function (a, b) { return a[1][0] - b[1][0] || a[1][1] - b[1][1] || a[1][2] - b[1][2]; });
      var tb = h('tbody');
      all.forEach(function (x) {
        var f = x[1], ind = D.indicators[f[2]], kind = x[0];
        var kd = D.flags.kinds[ind] || {};
        var note = kind === 'treated' ? treatName(kd[String(YEARS[f[0]])] || kd.pooled || kd.all || 'treated') : t('imputed');
        note = note.replace(/\(([^)]*)\)/, S.lang === 'zh' ? '（$1）' : '($1)');
        tb.appendChild(h('tr', null, h('td', null, h('a', { href: '#unit=' + encodeURIComponent(CODES[f[1]]) }, uname(f[1]))), h('td', null, String(YEARS[f[0]])),
          h('td', null, nlabel(ind)), h('td', { class: 'num' }, fmtg(D.value[f[0]][f[1]][f[2]])), h('td', { class: 'num' }, fmtg(f[3])),
          h('td', null, h('span', { class: 'flagdot' }, '⚑ ' + note))));
      });
      root.appendChild(h('h3', null, t('q_cells') + ' (' + all.length + ')'));
      root.appendChild(h('div', { class: 'scroll' }, h('table', { class: 'plain', id: 'flag-table' }, h('thead', null, h('tr', null,
        [t('col_unit'), t('col_year'), t('col_ind'), t('col_orig'), t('col_used'), t('col_flag')].map(function (x) { return h('th', null, x); }))), tb)));
    }
    var tt = D.flags.treatment_table;
    if (tt && tt.indicator && tt.indicator.length) {
      var rs = rows(tt, function (r) { return r.treatment !== 'none'; });
      if (rs.length) {
        root.appendChild(h('h3', { style: null }, t('q_treat')));
        root.appendChild(h('div', { class: 'scroll' }, h('table', { class: 'plain' }, h('thead', null, h('tr', null, [t('col_ind'), t('col_year'), t('col_flag'), t('q_points'), t('q_skew'), t('q_kurt'), '→ ' + t('q_skew'), '→ ' + t('q_kurt')].map(function (x) { return h('th', null, x); }))),
          h('tbody', null, rs.map(function (r) {
            return h('tr', null, h('td', null, nlabel(r.indicator)), h('td', null, /^\d+$/.test(String(r.year)) ? String(r.year) : scopeName(r.year)), h('td', null, treatName(r.treatment) + (r.side ? (S.lang === 'zh' ? '（' + treatName(r.side) + '）' : ' (' + r.side + ')') : '')), h('td', { class: 'num' }, String(r.winsorised_points)),
              h('td', { class: 'num' }, fmt(r.skew_before, 2)), h('td', { class: 'num' }, fmt(r.kurtosis_before, 2)), h('td', { class: 'num' }, fmt(r.skew_after, 2)), h('td', { class: 'num' }, fmt(r.kurtosis_after, 2)));
          })))));
      }
    }
  }

  /* ------------------------------------------------------------------------------ methods */
  // a recipe step as a sentence: the method's name (translated) and its parameters as code
  function describeStep(step, spec) {
    if (spec === true || spec === false || typeof spec === 'string') return [stepMethod(String(spec))];
    if (!spec || typeof spec !== 'object') return [String(spec)];
    var out = [stepMethod(spec.method || '')];
    var params = Object.keys(spec).filter(function (k) { return k !== 'method' && k !== 'by_level' && k !== 'by_node'; })
      .map(function (k) { return k + '=' + JSON.stringify(spec[k]); });
    if (params.length) out.push(' ', h('span', { class: 'code' }, params.join(', ')));
    [['by_level', ['按层级：', 'by level: ']], ['by_node', ['按节点：', 'by node: ']]].forEach(function (o) {
      var m = spec[o[0]];
      if (!m || !Object.keys(m).length) return;
      out.push(h('div', { class: 'sub' }, o[1][LANG_I[S.lang]], Object.keys(m).map(function (k, i) {
        var v = m[k];
        return [i ? '; ' : '', h('span', { class: 'code' }, k), ' → ', stepMethod(v.method || ''),
          Object.keys(v).filter(function (x) { return x !== 'method'; }).length ? [' ', h('span', { class: 'code' }, Object.keys(v).filter(function (x) { return x !== 'method'; }).map(function (x) { return x + '=' + JSON.stringify(v[x]); }).join(', '))] : null];
      })));
    });
    return out;
  }
  function secMethod(root) {
    add(root, [h('h2', null, t('m_h')), h('p', { class: 'lede' }, t('m_lede'))]);
    var pv = D.provenance, g = h('div', { class: 'grid2' });
    var steps = h('table', { class: 'kv' }, h('tbody', null, Object.keys(D.recipe).map(function (k) {
      return h('tr', null, h('th', null, L['step_' + k] ? t('step_' + k) : k), h('td', null, describeStep(k, D.recipe[k])));
    })));
    g.appendChild(h('div', null, h('h3', null, t('m_recipe')), steps, h('pre', { class: 'yaml', id: 'recipe-yaml' }, D.recipe_yaml)));
    var kv = [[t('m_version'), pv.version], [t('m_fp'), pv.data_fingerprint], [t('m_scores'), pv.scores_sha256]];
    Object.keys(pv.inputs || {}).forEach(function (role) { var v = pv.inputs[role]; if (v && typeof v === 'object') kv.push([[L['in_' + role] ? t('in_' + role) : role, h('div', { class: 'code path' }, v.path || '')], v.sha256]); });
    var prov = h('table', { class: 'kv', id: 'provenance' }, h('tbody', null, kv.map(function (r) { return h('tr', null, h('th', null, r[0]), h('td', { class: 'hash' }, r[1] == null ? '–' : String(r[1]))); })));
    g.appendChild(h('div', null, h('h3', null, t('m_inputs')), h('div', { class: 'scroll-x' }, prov),
      h('div', { class: pv.reproduced ? 'note' : 'warn' }, h('b', null, t('m_repro') + colon()), pv.reproduced ? t('m_repro_ok') : t('m_repro_bad', pv.recorded_version || '?')),
      D.warnings.length ? h('div', { id: 'build-warnings' }, h('h3', null, t('m_warn')), h('div', { class: 'warn' }, t('m_warn_n', D.warnings.length), origEn(D.warnings, true))) : null,
      h('h3', null, t('m_licence')), h('p', { class: 'sub' }, t('m_lic_text')),
      h('details', { class: 'verbatim', id: 'notices' }, h('summary', null, t('m_notices')),
        (D.notices || []).map(function (nt) { return [h('h4', null, nt[0]), h('pre', { class: 'notice' }, nt[1])]; }))));
    root.appendChild(g);
  }

  /* --------------------------------------------------------------------------------- plan */
  var PLAN_S = { yi: null };
  function ensurePlanMap(PL) {
    if (PL.map && !PL.map.error) {
      if (!MAPS.plan) {
        var M = PL.map;
        E.registerMap('dc-prov', { type: 'FeatureCollection', features: M.features.map(function (f) {
          return { type: 'Feature', properties: { name: f.code }, geometry: { type: 'MultiPolygon', coordinates: f.p.map(function (r) { return decodeRings(r, M.quant); }) } }; }) });
        MAPS.plan = 'dc-prov';
      }
      return 'dc-prov';
    }
    ensureMap();
    return MAPS.units ? 'dc-units' : null;
  }
  function secPlan(root) {
    add(root, [h('h2', null, t('plan_h'))]);
    var PL = D.plan;
    if (!PL) { root.appendChild(absent(t('plan_absent'))); return; }
    if (PL.error) { root.appendChild(h('div', { class: 'warn' }, t('err_read', PL.error))); return; }
    var title = S.lang === 'zh' ? PL.name_zh : PL.name_en;
    root.appendChild(h('p', { class: 'lede' }, title || (PL.name ? [t('plan_id', ''), h('span', { class: 'code' }, PL.name)] : '')));
    root.appendChild(h('p', null, t('plan_status', t('st_' + PL.status) === 'st_' + PL.status ? PL.status : t('st_' + PL.status), fmt((PL.objective_pv_yuan || 0) / 1e8, 2))));
    if (PL.illustrative && PL.illustrative.length) root.appendChild(h('div', { class: 'warn' }, t('plan_illus', PL.illustrative.map(planTable).join(S.lang === 'zh' ? '、' : ', '))));
    var years = [];
    if (PL.utilisation) PL.utilisation.year.forEach(function (y) { if (years.indexOf(y) < 0) years.push(y); });
    years.sort();
    if (PLAN_S.yi === null || PLAN_S.yi >= years.length) PLAN_S.yi = years.length - 1;
    var yr = years[PLAN_S.yi];
    if (years.length > 1) root.appendChild(h('div', { class: 'controls' }, ctl(t('plan_year'), sel(years.map(function (y, i) { return [i, String(y)]; }), PLAN_S.yi, function (v) { PLAN_S.yi = +v; rerender('plan'); }, t('plan_year')))));
    var g = h('div', { class: 'grid2' });
    root.appendChild(g);
    var siteName = function (s) { return S.lang === 'zh' ? (s.name_zh || s.name) : s.name; };
    var SITES = {}; (PL.sites || []).forEach(function (s) { SITES[s.id] = s; });
    if (PL.flows && PL.sites) {
      var el = chart('flow', function (box) {
        var mp = ensurePlanMap(PL);
        var fl = rows(PL.flows, function (r) { return r.year === yr; });
        var mx = 0; fl.forEach(function (r) { mx = Math.max(mx, r.racks); });
        var inst = {}; rows(PL.utilisation, function (r) { return r.year === yr; }).forEach(function (r) { inst[r.site_id] = r.installed_racks; });
        var imx = 0; Object.keys(inst).forEach(function (k) { imx = Math.max(imx, inst[k]); });
        var lines = fl.map(function (r) { var o = PL.origins[r.origin_id], st = SITES[r.site_id];
          return o && st && o.xy[0] != null && st.xy[0] != null ? { coords: [o.xy, st.xy], value: r.racks, o: r.origin_id, s: r.site_id,
            lineStyle: { width: 0.6 + 7 * Math.sqrt(r.racks / (mx || 1)) } } : null; }).filter(Boolean);
        return { tooltip: tooltip(function (p) {
            if (p.seriesType === 'lines') { var o = PL.origins[p.data.o]; return tip([(o && o.name_zh && S.lang === 'zh' ? o.name_zh : p.data.o) + ' → ' + siteName(SITES[p.data.s]), fmt(p.data.value, 0) + ' ' + t('racks')]); }
            if (p.seriesType === 'scatter') { var s0 = SITES[p.data.id]; return tip([siteName(s0), t('installed') + colon() + fmt(inst[p.data.id] || 0, 0)]); }
            return ''; }),
          geo: { map: mp, roam: true, aspectScale: 0.82, layoutCenter: ['50%', '50%'], layoutSize: mapSize(box, 0.96), silent: true, itemStyle: { areaColor: '#ece8e1', borderColor: '#ffffff', borderWidth: 0.6 }, label: { show: false } },
          series: [{ type: 'lines', coordinateSystem: 'geo', data: lines, large: false, lineStyle: { color: '#1f5c99', opacity: 0.35, curveness: 0.18 }, z: 3 },
            { type: 'scatter', coordinateSystem: 'geo', z: 5, data: (PL.sites || []).filter(function (s) { return s.xy[0] != null; }).map(function (s) {
              return { id: s.id, value: s.xy, symbolSize: 6 + 22 * Math.sqrt((inst[s.id] || 0) / (imx || 1)), itemStyle: { color: s.hub ? '#b4441b' : '#7b7f88', borderColor: '#fff', borderWidth: 1 } }; }),
              label: { show: true, position: 'right', formatter: function (p) { return siteName(SITES[p.data.id]); }, fontSize: 11, color: '#1c1d21' }, labelLayout: { hideOverlap: true } }] };
      });
      var csrc = function (v) { return t({ 'plan folder': 'src_folder', 'shipped example (sha256 matches)': 'src_shipped', 'province centroid': 'src_centroid' }[v] || 'src_other'); };
      var ff = fig(t('flow_h'), t('plan_flow_sub', yr) + stop() + t('plan_coords', csrc(PL.coords_source.sites), csrc(PL.coords_source.origins)), el);
      ff.classList.add('span2');
      g.appendChild(ff);
    }
    if (PL.utilisation) g.appendChild(fig(t('util_h'), t('plan_util_sub', yr), chart('tall', function () {
      var rs = rows(PL.utilisation, function (r) { return r.year === yr; }).sort(function (a, b) { return b.installed_racks - a.installed_racks; });
      var names = rs.map(function (r) { return SITES[r.site_id] ? siteName(SITES[r.site_id]) : r.site_id; });
      return { grid: baseGrid({ left: 10, top: 34, right: 48 }), legend: { top: 0, left: 0, textStyle: { color: '#4a4d55' } },
        tooltip: tooltip(null, { trigger: 'axis', axisPointer: { type: 'shadow' }, formatter: function (ps) { var r = rs[ps[0].dataIndex];
          return tip([names[ps[0].dataIndex], t('used') + colon() + fmt(r.used_racks, 0), t('idle') + colon() + fmt(r.idle_racks, 0), pct(r.utilisation, 1)]); } }),
        yAxis: axis({ type: 'category', inverse: true, data: names, axisLabel: { color: '#1c1d21', width: 150, overflow: 'truncate' } }), xAxis: axis({ type: 'value' }),
        series: [{ type: 'bar', stack: 'u', name: t('used'), data: rs.map(function (r) { return r.used_racks; }), itemStyle: { color: '#1f5c99' }, barMaxWidth: 16 },
          { type: 'bar', stack: 'u', name: t('idle'), data: rs.map(function (r) { return r.idle_racks; }), itemStyle: { color: '#e3b9a6' }, barMaxWidth: 16,
            label: { show: true, position: 'right', formatter: function (p) { return pct(rs[p.dataIndex].utilisation); }, color: '#4a4d55', fontSize: 11 } }] };
    })));
    if (PL.frontier) g.appendChild(fig(t('frontier_h'), t('plan_front_sub'), chart('', function () {
      var rs = rows(PL.frontier, function (r) { return r.status === 'optimal' || r.status === 'time_limit'; });
      var key = rs.length && rs[0].accounting === 'location' ? 'emissions_location_t' : 'emissions_net_t';
      // cost excluding carbon payments (older plan folders without the column: total cost, labelled as such)
      var ex = rs.length && rs[0].cost_excl_carbon_pv_yuan != null;
      var cy = function (r) { return (ex ? r.cost_excl_carbon_pv_yuan : r.total_pv_yuan) / 1e8; };
      return { grid: baseGrid({ left: 34 }), tooltip: tooltip(function (p) { var r = rs[p.dataIndex]; if (!r) return ''; return tip([r.parameter + ' = ' + fmt(r.value, 0), t(ex ? 'cost_ex' : 'cost') + colon() + fmt(cy(r), 1)].concat(ex ? [t('carbon_pay') + colon() + fmt((r.carbon_cost_pv_yuan || 0) / 1e8, 1), t('cost') + colon() + fmt(r.total_pv_yuan / 1e8, 1)] : []).concat([t('emis') + colon() + fmt(r[key] / 1e6, 2)])); }),
        xAxis: axis({ type: 'value', scale: true, name: t('emis'), nameLocation: 'middle', nameGap: 26 }),
        yAxis: axis({ type: 'value', scale: true, name: t(ex ? 'cost_ex' : 'cost'), nameLocation: 'middle', nameRotate: 90, nameGap: 52 }),
        series: [{ type: 'line', data: rs.map(function (r) { return [r[key] / 1e6, cy(r)]; }), symbolSize: 9, lineStyle: { color: '#1f5c99', width: 2 }, itemStyle: { color: '#1f5c99' },
          label: { show: true, formatter: function (p) { return fmt(rs[p.dataIndex].value, 0); }, position: 'top', color: '#4a4d55', fontSize: 11 } }] };
    })));
    if (PL.summary_text) root.appendChild(h('details', { class: 'verbatim' }, h('summary', null, t('plan_sum')), h('pre', { class: 'yaml' }, PL.summary_text)));
  }

  /* ------------------------------------------------------------------------------ profile */
  function route() {
    var m = /^#unit=(.+)$/.exec(location.hash || '');
    var prof = document.getElementById('profile');
    if (!m) { if (document.body.classList.contains('profile-open')) { document.body.classList.remove('profile-open'); clear(prof); } return; }
    var code = decodeURIComponent(m[1]);
    document.body.classList.add('profile-open');
    clear(prof); prof.appendChild(profile(code)); window.scrollTo(0, 0);
  }
  window.addEventListener('hashchange', route);
  function contributions(n, t0, t1) {
    // change of the index between years t0 and t1 broken down by pillar (see docs/report.md)
    var P = D.pillars, method = RW.method, C = P.length;
    var w = S.rwOn ? normWeights(S.w.map(Number)) : null;
    function wts(ti) { return w || RW.used[ti]; }
    function terms(ti) {
      var ww = wts(ti), y = P.map(function (p) { return D.scores[p][ti][n]; }), wp = [];
      for (var i = 0; i < C; i++) wp.push(y[i] == null ? 0 : ww[i]);
      var s = npsum(wp);
      return y.map(function (v, i) { return v == null ? 0 : (method === 'geometric' ? wp[i] / s * Math.log(v) : wp[i] / s * v); });
    }
    var a = terms(t0), b = terms(t1), I0 = curScore(t0, n), I1 = curScore(t1, n), dI = I1 - I0;
    var c = P.map(function (_, i) { return b[i] - a[i]; });
    if (method === 'geometric' && (S.rwOn ? rwMode() !== 'approx' : true)) {
      var dl = npsum(c); c = c.map(function (x) { return dl !== 0 ? dI * x / dl : 0; });
    }
    var rest = dI - npsum(c);
    return { I0: I0, I1: I1, c: c, rest: Math.abs(rest) > 1e-9 * Math.max(1, Math.abs(I1)) ? rest : 0 };
  }
  function profile(code) {
    var n = IDX[code], box = h('div', { class: 'wrap' });
    var back = h('a', { href: '#sec-ranking', class: 'backlink', onclick: function (e) { e.preventDefault(); history.pushState('', document.title, location.pathname + location.search); route(); var s = document.getElementById('sec-ranking'); if (s) s.scrollIntoView(); } }, t('prof_back'));
    box.appendChild(back);
    if (n === undefined) { box.appendChild(absent(t('prof_unknown', code))); return box; }
    var ti = S.yi, r = curRank(ti, n), s = curScore(ti, n);
    var tags = D.group_defs.map(function (g) { var v = D.units.groups[g.col][n]; return v == null ? null : h('span', { class: 'pill' }, g[S.lang] + colon() + glabel(g.col, v)); });
    var order = CODES.map(function (_, i) { return i; }).filter(function (i) { return curRank(ti, i) != null; }).sort(function (a, b) { return curRank(ti, a) - curRank(ti, b) || a - b; });
    var pos = order.indexOf(n);
    var nav = h('div', { class: 'prof-nav' },
      pos > 0 ? h('a', { href: '#unit=' + encodeURIComponent(CODES[order[pos - 1]]) }, t('prof_prev') + ' ' + uname(order[pos - 1])) : null,
      pos >= 0 && pos < order.length - 1 ? h('a', { href: '#unit=' + encodeURIComponent(CODES[order[pos + 1]]) }, uname(order[pos + 1]) + ' ' + t('prof_next')) : null);
    box.appendChild(h('div', { class: 'prof-head' },
      h('div', null, h('p', { class: 'kicker' }, (S.lang === 'zh' ? D.title.zh : D.title.en) + ' · ' + YEARS[ti]), h('h1', { id: 'prof-name' }, uname(n)),
        h('div', null, h('span', { class: 'pill' }, code), tags), nav),
      h('div', { class: 'bignums' }, h('div', { class: 'bignum' }, h('b', null, r == null ? '–' : String(r)), h('span', null, t('prof_rank') + ' · ' + t('prof_of', N))),
        h('div', { class: 'bignum' }, h('b', null, fmt(s)), h('span', null, t('prof_score'))))));
    if (S.rwOn) box.appendChild(h('div', { class: 'rwtag', role: 'note', id: 'prof-rw' }, t('prof_rw', r == null ? '–' : r, fmt(s),
      D.ranks[D.root][ti][n] == null ? '–' : D.ranks[D.root][ti][n], fmt(D.scores[D.root][ti][n]))));
    var grid = h('div', { class: 'grid2' });
    box.appendChild(grid);
    // pillar profile against the median of all units and the mean of the unit's group (first grouping)
    var g0 = D.group_defs[0] ? D.group_defs[0].col : null, gv = g0 ? D.units.groups[g0][n] : null;
    function median(a) { a = a.filter(function (v) { return v != null; }).sort(function (x, y) { return x - y; }); var m = a.length >> 1; return a.length ? (a.length % 2 ? a[m] : (a[m - 1] + a[m]) / 2) : null; }
    function gmean(p) { var a = D.scores[p][ti].filter(function (v, i) { return v != null && D.units.groups[g0][i] === gv; }); return a.length ? npsum(a) / a.length : null; }
    var radarSub = gv != null ? t('prof_radar_sub', YEARS[ti], glabel(g0, gv)) : t('prof_radar_sub0', YEARS[ti]);
    grid.appendChild(fig(t('prof_radar'), radarSub, chart('radar', function (box) {
      var P = D.pillars, mx = 0;
      var lines = [{ name: uname(n), col: '#b4441b', v: P.map(function (p) { return D.scores[p][ti][n]; }) },
        { name: t('prof_median'), col: '#7b7f88', v: P.map(function (p) { return median(D.scores[p][ti]); }) }];
      if (gv != null) lines.push({ name: t('prof_groupmean', glabel(g0, gv)), col: '#1f5c99', v: P.map(gmean) });
      var cl = catLabels(box, P.map(nlabel), 90);
      if (P.length < 3) return { grid: baseGrid({ top: 34, left: Math.max(48, cl.left) }), legend: { top: 0, textStyle: { color: '#4a4d55' } },
        tooltip: tooltip(null, { trigger: 'axis', axisPointer: { type: 'shadow' }, formatter: function (ps) {
          return tip([String(ps[0].axisValue)].concat(ps.map(function (p) { return p.seriesName + colon() + fmt(p.value); }))); } }),
        xAxis: axis({ type: 'category', data: P.map(nlabel), axisLabel: cl.label }), yAxis: axis({ type: 'value' }),
        series: lines.map(function (l) { return { type: 'bar', name: l.name, data: l.v, itemStyle: { color: l.col }, barMaxWidth: 42 }; }) };
      P.forEach(function (p) { D.scores[p][ti].forEach(function (v) { if (v > mx) mx = v; }); });
      var narrow = box && box.clientWidth < 480;
      var ser = lines.map(function (l, i) { return { name: l.name, value: l.v, lineStyle: { width: i ? 1.5 : 2.5, color: l.col, type: i === 1 ? 'dashed' : 'solid' },
        itemStyle: { color: l.col }, areaStyle: i ? undefined : { color: 'rgba(180,68,27,.15)' } }; });
      return { legend: { bottom: 0, textStyle: { color: '#4a4d55' } }, tooltip: tooltip(function (p) { return tip([p.name].concat(P.map(function (c, i) { return nlabel(c) + colon() + fmt(p.value[i]); }))); }),
        radar: { indicator: P.map(function (p) { return { name: nlabel(p), max: Math.ceil(mx / 10) * 10 || 100 }; }), radius: narrow ? '52%' : '64%', center: ['50%', '48%'],
          axisName: { color: '#4a4d55', fontSize: narrow ? 11 : 12, width: narrow ? 84 : 130, overflow: 'break', lineHeight: 14 },
          splitLine: { lineStyle: { color: '#e4ded3' } }, splitArea: { show: false } },
        series: [{ type: 'radar', symbolSize: 4, data: ser }] };
    })));
    // strengths and weaknesses: nodes whose rank is at least `margin` places better / worse than the overall rank
    // (the rule of dcindex.explain.profile: margin = max(2, round(N / 6)), N = units ranked). When no node passes
    // the rule on one side, that side lists the best (worst) ranked nodes instead, labelled as such.
    var nRanked = 0; for (var q = 0; q < N; q++) if (curRank(ti, q) != null) nRanked++;
    var margin = Math.max(2, Math.round(nRanked / 6)), overall = curRank(ti, n);
    var cand = D.nodes.filter(function (x) { return x.code !== D.root; }).map(function (x) {
      var rr = D.ranks[x.code][ti][n]; return { code: x.code, r: rr, adv: rr == null || overall == null ? null : overall - rr, ind: x.ind };
    }).filter(function (x) { return x.adv != null; });
    var strong = cand.filter(function (x) { return x.adv >= margin; }).sort(function (a, b) { return b.adv - a.adv || a.r - b.r; }).slice(0, 5);
    var weak = cand.filter(function (x) { return x.adv <= -margin; }).sort(function (a, b) { return a.adv - b.adv || b.r - a.r; }).slice(0, 5);
    function swList(list, cls, id) {
      return h('ul', { class: 'sw ' + cls, id: id }, list.map(function (x) { return h('li', null, h('b', null, nlabel(x.code) + (x.ind ? '' : ' ◆')), h('span', null, t('rank_of', x.r) + ' / ' + N)); }));
    }
    var byR = cand.filter(function (x) { return x.r != null; }).sort(function (a, b) { return a.r - b.r || (a.ind - b.ind); });
    var k3 = Math.min(3, Math.floor(byR.length / 2));
    var used = {}; strong.concat(weak).forEach(function (x) { used[x.code] = 1; });
    function side(list, cls, none, refH, ref) {
      if (list.length) return swList(list, cls, 'prof-' + cls);
      var rest = ref.filter(function (x) { return !used[x.code]; }).slice(0, k3);
      rest.forEach(function (x) { used[x.code] = 1; });
      return [h('p', { class: 'sub' }, t(none, margin)), rest.length ? [h('h4', null, refH), swList(rest, cls + ' ref', 'prof-' + cls)] : null];
    }
    var swBox = h('div', { id: 'prof-sw' }, h('h3', null, t('prof_strengths')), h('p', { class: 'sub' }, t('prof_sw_rule', margin) + ' · ' + YEARS[ti]),
      side(strong, 'good', 'prof_sw_none_s', t('prof_best_h'), byR),
      h('h3', null, t('prof_weak')), side(weak, 'bad', 'prof_sw_none_w', t('prof_worst_h'), byR.slice().reverse()));
    grid.appendChild(swBox);
    // waterfall: change since the first year by pillar (dcindex explain when available, else from the aggregation)
    var XA = D.explain && D.explain.attribution;
    if (T > 1 && ti > 0) {
      var t0 = 0, cb = contributions(n, t0, ti), src = t('prof_wf_src_own', aggName(RW.method));
      if (!S.rwOn && XA && XA.pillars[String(ti)]) {
        var pc = XA.pillars[String(ti)][n];
        if (pc && pc.every(function (v) { return v != null; })) {
          cb = { I0: cb.I0, I1: cb.I1, c: pc.slice(), rest: 0 };
          var r0 = cb.I1 - cb.I0 - npsum(pc);
          if (Math.abs(r0) > 1e-6 * Math.max(1, Math.abs(cb.I1))) cb.rest = r0;
          src = t('prof_wf_src_exp');
        }
      }
      var wfEl = chart('', function (box) {
        var labels = [t('prof_start', YEARS[t0])].concat(D.pillars.map(nlabel)), vals = cb.c.slice();
        if (cb.rest) { labels.push(t('prof_wf_rest')); vals.push(cb.rest); }
        labels.push(t('prof_start', YEARS[ti]));
        var base = [0], delta = [{ value: cb.I0, itemStyle: { color: '#7b7f88' } }], acc = cb.I0, lo = Math.min(cb.I0, cb.I1), hi = Math.max(cb.I0, cb.I1);
        vals.forEach(function (v) { base.push(v >= 0 ? acc : acc + v); delta.push({ value: Math.abs(v), itemStyle: { color: v >= 0 ? '#2a7b4f' : '#b3261e' }, signed: v }); acc += v; lo = Math.min(lo, acc); hi = Math.max(hi, acc); });
        base.push(0); delta.push({ value: cb.I1, itemStyle: { color: '#1c1d21' } });
        // zoom on the changes: the axis starts below the lowest level reached (the start and end bars are cut)
        var pad = Math.max((hi - lo) * 0.6, 0.5), ymin = Math.max(0, Math.floor(lo - pad));
        if (lo >= 0 && ymin < lo * 0.25) ymin = 0;
        var cl = catLabels(box, labels, 90);
        return { grid: baseGrid({ bottom: 60, left: Math.max(48, cl.left) }), tooltip: tooltip(function (p) { if (p.seriesIndex !== 1) return ''; var d = delta[p.dataIndex]; return tip([labels[p.dataIndex], d.signed !== undefined ? (d.signed >= 0 ? '+' : '−') + fmt(Math.abs(d.signed), 2) : fmt(d.value, 2)]); }),
          xAxis: axis({ type: 'category', data: labels, axisLabel: cl.label }), yAxis: axis({ type: 'value', min: ymin }),
          series: [{ type: 'bar', stack: 'w', silent: true, itemStyle: { color: 'transparent' }, data: base },
            { type: 'bar', stack: 'w', data: delta, barMaxWidth: 48, label: { show: true, position: 'top', color: '#4a4d55', fontSize: 11,
              formatter: function (p) { var d = delta[p.dataIndex]; return d.signed !== undefined ? (d.signed >= 0 ? '+' : '−') + fmt(Math.abs(d.signed), 1) : fmt(d.value, 1); } } }] };
      });
      wfEl.setAttribute('id', 'prof-waterfall');
      var wfFig = fig(t('prof_wf'), t('prof_wf_sub', YEARS[t0], YEARS[ti]) + ' · ' + src, wfEl);
      wfFig.classList.add('span2');
      if (!S.rwOn && XA && XA.indicators_last && ti === T - 1 && XA.indicators_last[n]) {
        var ic = XA.indicators_last[n].map(function (v, k) { return [k, v]; }).filter(function (x) { return x[1] != null; })
          .sort(function (a, b) { return Math.abs(b[1]) - Math.abs(a[1]); }).slice(0, 5);
        wfFig.appendChild(h('h3', null, t('prof_drivers')));
        wfFig.appendChild(h('ul', { class: 'sw' }, ic.map(function (x) { return h('li', null, h('b', null, nlabel(D.indicators[x[0]])), h('span', { class: x[1] >= 0 ? 'chg up' : 'chg down' }, (x[1] >= 0 ? '+' : '−') + fmt(Math.abs(x[1]), 2))); })));
      }
      grid.appendChild(wfFig);
    } else grid.appendChild(fig(t('prof_wf'), '', absent(t('prof_wf_one'))));
    // trend
    if (T > 1) grid.appendChild(fig(t('prof_trend'), '', chart('short', function () {
      return { grid: baseGrid({ right: 50 }), tooltip: tooltip(null, { trigger: 'axis', formatter: function (ps) { return tip([String(ps[0].axisValue)].concat(ps.map(function (p) { return p.seriesName + colon() + (p.seriesIndex ? p.value : fmt(p.value)); }))); } }),
        legend: { top: 0, textStyle: { color: '#4a4d55' } },
        xAxis: axis({ type: 'category', data: YEARS.map(String) }), yAxis: [axis({ type: 'value' }), axis({ type: 'value', inverse: true, min: 1, max: N, splitLine: { show: false } })],
        series: [{ type: 'line', name: t('col_score'), data: YEARS.map(function (_, i) { return curScore(i, n); }), lineStyle: { width: 2.5, color: '#1f5c99' }, itemStyle: { color: '#1f5c99' } },
          { type: 'line', name: t('col_rank'), yAxisIndex: 1, data: YEARS.map(function (_, i) { return curRank(i, n); }), lineStyle: { width: 1.5, color: '#b4441b', type: 'dashed' }, itemStyle: { color: '#b4441b' } }] };
    })));
    if (T > 1) grid.lastChild.classList.add('span2');
    // indicator table
    var tb = h('tbody');
    D.indicators.forEach(function (c, k) {
      var fl = cellFlag(ti, n, k), vv = D.value[ti][n][k];
      var imp = fl.filter(function (f) { return f[0] === 'imputed'; })[0];
      // an imputed cell shows the value the build used (the input had none); a treated one its input value
      var td = h('td', { class: 'num' }, imp ? h('i', null, fmtg(imp[1])) : fmtg(vv));
      fl.forEach(function (f) { td.appendChild(h('span', { class: 'flagdot', title: t(f[0]) + colon() + fmtg(vv) + ' → ' + fmtg(f[1]) }, '⚑ ' + t(f[0]))); });
      var trf = (D.flags.transforms || {})[c];
      if (trf) { var blk = trf[String(YEARS[ti])] ? String(YEARS[ti]) : trf.pooled ? 'pooled' : trf.all ? 'all' : null;
        if (blk) td.appendChild(h('span', { class: 'tfdot', title: t('ind_transform', treatName(trf[blk]), /^\d+$/.test(blk) ? blk : scopeName(blk)) }, treatName(trf[blk]))); }
      tb.appendChild(h('tr', { 'data-ind': c }, h('td', null, nlabel(c)), h('td', { class: 'gtag' }, nlabel(NODE[c].parent)), td,
        h('td', { class: 'num' }, fmt(D.norm[ti][n][k])), h('td', { class: 'num' }, D.ranks[c][ti][n] == null ? '–' : D.ranks[c][ti][n] + ' / ' + N), h('td', { class: 'gtag data' }, NODE[c].unit || '')));
    });
    box.appendChild(h('h3', { class: 'sp' }, t('prof_table')));
    box.appendChild(h('table', { class: 'plain', id: 'prof-ind' }, h('thead', null, h('tr', null, [t('col_ind'), t('pillars'), t('col_value'), t('col_norm'), t('col_rank'), t('fw_unit')].map(function (x) { return h('th', null, x); }))), tb));
    return box;
  }

  /* -------------------------------------------------------------------------------- start */
  render();
  window.dcReport = {
    state: S, data: D,
    renderAll: function () { document.querySelectorAll('.chart').forEach(draw); },
    ranks: function (ti) { ti = ti === undefined ? S.yi : ti; return CODES.map(function (c, n) { return [c, curRank(ti, n), curScore(ti, n)]; }); },
    charts: function () { return live.size; }
  };
  requestAnimationFrame(function () {
    window.dcReport.readyAt = performance.now();  // time to first render (benchmark: bench/bench_report.py)
    window.dcReport.ready = true; document.documentElement.setAttribute('data-ready', '1');
  });
})();
