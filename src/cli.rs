//! Command-line arguments. The doc comments are the help text users see, so they are Chinese.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

const HELP_TEMPLATE: &str = "\
{before-help}{about-with-newline}
用法：{usage}

{all-args}{after-help}";

/// 把各单位的佐证材料（YAML 记录 + 证据文件）编成“河南省质量强县示范县”验收资料汇编。
#[derive(Debug, Parser)]
#[command(
    name = "dossier",
    version,
    help_template = HELP_TEMPLATE,
    subcommand_help_heading = "命令",
    subcommand_value_name = "命令",
    next_help_heading = "选项",
    disable_help_subcommand = true,
    disable_help_flag = true,
    disable_version_flag = true,
    after_help = "退出码：0 成功；1 资料有错误；2 用法错误、读写错误或程序内部错误。\n每个命令的详细用法：dossier <命令> --help"
)]
pub struct Cli {
    /// 要执行的命令
    #[command(subcommand)]
    pub command: Command,
    /// 显示帮助
    #[arg(short = 'h', long = "help", action = clap::ArgAction::Help, global = true)]
    help: Option<bool>,
    /// 显示版本
    #[arg(short = 'V', long = "version", action = clap::ArgAction::Version)]
    version: Option<bool>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// 检查资料目录：读取全部 YAML 和证据文件，报告每个错误和警告（不写任何文件）
    #[command(help_template = HELP_TEMPLATE, next_help_heading = "选项")]
    Check(CheckArgs),
    /// 新建资料目录：写入 dossier.yaml、单位名录和 21 个指标文件
    #[command(help_template = HELP_TEMPLATE, next_help_heading = "选项")]
    Init(InitArgs),
    /// 导出内置模板：把汇编、总目录、证据册的排版模板写到资料目录的 templates/ 里，供本县修改（已有的文件不覆盖）
    #[command(help_template = HELP_TEMPLATE, next_help_heading = "选项")]
    Templates(TemplatesArgs),
    /// 生成汇编：检查资料，排版成一个 PDF（带目录、书签、索引），并把 PDF、证据原件、清单打成资料包
    #[command(help_template = HELP_TEMPLATE, next_help_heading = "选项")]
    Build(BuildArgs),
    /// 边改边看：先生成一次，之后每当资料目录（含模板、字体）有变化就自动重新生成，并说明改了什么
    #[command(help_template = HELP_TEMPLATE, next_help_heading = "选项")]
    Watch(BuildArgs),
    /// 比较两个资料包：列出新增、删除、修改的材料和页码变动
    #[command(help_template = HELP_TEMPLATE, next_help_heading = "选项")]
    Diff(DiffArgs),
    /// 生成各责任单位的证据册：只含本单位的任务和材料，件号与汇编一致，适合双面打印装盒
    #[command(help_template = HELP_TEMPLATE, next_help_heading = "选项")]
    Binder(BinderArgs),
    /// 文字识别更正：为扫描件写一个更正文件（资料目录的 ocr/ 里），列出识别出的每一行文字，改正错字后重新生成汇编即可
    #[command(
        help_template = HELP_TEMPLATE,
        next_help_heading = "选项",
        override_usage = "dossier ocr [选项] <证据文件>..."
    )]
    Ocr(OcrArgs),
    /// 收集进度：写一个离线网页和一个 Excel 表，列出每条考核内容有没有材料、每个单位还欠什么、谁已逾期
    #[command(help_template = HELP_TEMPLATE, next_help_heading = "选项")]
    Status(StatusArgs),
    /// 导出材料登记表（.xlsx）：全部材料一行一件，外加每个单位一张任务表，供各单位填写
    #[command(help_template = HELP_TEMPLATE, next_help_heading = "选项")]
    Export(ExportArgs),
    /// 导入材料登记表（.xlsx）：逐行检查并列出将要新增、修改、删除的材料；加 --apply 才写入指标文件
    #[command(
        help_template = HELP_TEMPLATE,
        next_help_heading = "选项",
        override_usage = "dossier import [选项] [目录] <文件>"
    )]
    Import(ImportArgs),
    /// 核对资料包：逐个重新计算 SHA-256，与清单比对，报告缺少、多出和被改动的文件
    #[command(help_template = HELP_TEMPLATE, next_help_heading = "选项")]
    Verify(VerifyArgs),
    /// 还原资料包：把登记文件和证据原件按原路径放回一个新目录，可以再次生成汇编
    #[command(help_template = HELP_TEMPLATE, next_help_heading = "选项")]
    Unpack(UnpackArgs),
}

impl Command {
    /// The command's name (as typed) and the output format it was asked for: `main` needs
    /// them to report a failure in the same format as the command's results.
    pub fn name_and_format(&self) -> (&'static str, Format) {
        match self {
            Command::Check(a) => ("check", a.output.format),
            Command::Init(_) => ("init", Format::Text),
            Command::Build(a) => ("build", a.output.format),
            Command::Watch(a) => ("watch", a.output.format),
            Command::Diff(a) => ("diff", a.output.format),
            Command::Binder(a) => ("binder", a.output.format),
            Command::Verify(a) => ("verify", a.output.format),
            Command::Unpack(_) => ("unpack", Format::Text),
            Command::Templates(_) => ("templates", Format::Text),
            Command::Status(a) => ("status", a.output.format),
            Command::Ocr(_) => ("ocr", Format::Text),
            Command::Export(_) => ("export", Format::Text),
            Command::Import(a) => ("import", a.output.format),
        }
    }
}

/// How a command prints its results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// For people: Chinese text.
    #[default]
    Text,
    /// For programs: one JSON object per line on stdout.
    Json,
}

/// The output format option every reporting command has.
#[derive(Debug, Args)]
pub struct FormatArg {
    /// 输出格式：text（给人看，默认）或 json（标准输出每行一个 JSON 对象，给程序读；格式见 README）
    #[arg(
        long,
        value_enum,
        default_value_t,
        value_name = "格式",
        hide_default_value = true,
        hide_possible_values = true
    )]
    pub format: Format,
}

/// Arguments shared by every command that reads a dossier.
#[derive(Debug, Args)]
pub struct DossierArg {
    /// 资料目录（默认：当前目录下的 dossier）
    #[arg(
        value_name = "目录",
        default_value = "dossier",
        help_heading = "参数",
        hide_default_value = true
    )]
    pub dir: PathBuf,
}

/// `dossier check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The dossier folder.
    #[command(flatten)]
    pub dossier: DossierArg,
    /// Text or JSON lines.
    #[command(flatten)]
    pub output: FormatArg,
    /// 上次生成的输出目录（默认 out）：沿用那次对证据文件的检查结果，没有改动过的文件不再读取（check 仍不写任何文件）
    #[arg(
        long,
        value_name = "目录",
        default_value = "out",
        hide_default_value = true
    )]
    pub out: PathBuf,
}

/// `dossier build`.
#[derive(Debug, Args)]
pub struct BuildArgs {
    /// The dossier folder.
    #[command(flatten)]
    pub dossier: DossierArg,
    /// Text or JSON lines.
    #[command(flatten)]
    pub output: FormatArg,
    /// 输出目录（默认 out；不存在则新建）
    #[arg(
        long,
        value_name = "目录",
        default_value = "out",
        hide_default_value = true
    )]
    pub out: PathBuf,
    /// 草稿：在汇编末尾列出缺少材料的考核内容
    #[arg(long)]
    pub draft: bool,
    /// 把 evidence 里没有被任何材料引用的文件也放进资料包（单独的文件夹）
    #[arg(long)]
    pub include_unreferenced: bool,
    /// 不规范化证据：图片按原样排版、大 PDF 不拆分（慢、占内存，仅供比对）
    #[arg(long)]
    pub no_normalize: bool,
    /// 文字识别：给扫描件、照片等没有文字层的证据页加上看不见的文字层（双层 PDF），汇编里可搜索、可复制；结果缓存在输出目录，不重复识别（dossier.yaml 里写“文字识别: 是”效果相同）
    #[arg(long)]
    pub ocr: bool,
    /// 双面打印（默认）：装订边在内侧，目录和每件材料从右手页（奇数页）开始，插入的空白页印“本页无正文”
    #[arg(long, overrides_with = "simplex")]
    pub duplex: bool,
    /// 单面打印：不插空白页，装订边都在左侧，页码都在右侧
    #[arg(long, overrides_with = "duplex")]
    pub simplex: bool,
}

/// `dossier binder`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("which").required(true).args(["unit", "all"])))]
pub struct BinderArgs {
    /// The dossier folder.
    #[command(flatten)]
    pub dossier: DossierArg,
    /// Text or JSON lines.
    #[command(flatten)]
    pub output: FormatArg,
    /// 单位名称（单位名录里的名称、简称或别名均可）
    #[arg(long, value_name = "单位")]
    pub unit: Option<String>,
    /// 为每个有任务或有材料的单位各生成一本（并行）
    #[arg(long)]
    pub all: bool,
    /// 输出目录（证据册写在其中的 binders 文件夹；默认 out）
    #[arg(
        long,
        value_name = "目录",
        default_value = "out",
        hide_default_value = true
    )]
    pub out: PathBuf,
    /// 双面打印（默认）：每件材料从右手页（奇数页）开始，装订边在内侧
    #[arg(long, overrides_with = "simplex")]
    pub duplex: bool,
    /// 单面打印：不插空白页，装订边都在左侧
    #[arg(long, overrides_with = "duplex")]
    pub simplex: bool,
    /// 不规范化证据：图片按原样排版、大 PDF 不拆分
    #[arg(long)]
    pub no_normalize: bool,
    /// 文字识别：扫描件页加上看不见的文字层（沿用生成汇编时的识别结果）
    #[arg(long)]
    pub ocr: bool,
}

/// `dossier status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The dossier folder.
    #[command(flatten)]
    pub dossier: DossierArg,
    /// Text or JSON lines.
    #[command(flatten)]
    pub output: FormatArg,
    /// 输出目录（默认 out；进度页里的材料链接指向这里上次生成的汇编）
    #[arg(
        long,
        value_name = "目录",
        default_value = "out",
        hide_default_value = true
    )]
    pub out: PathBuf,
}

/// `dossier export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The dossier folder.
    #[command(flatten)]
    pub dossier: DossierArg,
    /// 写出的 Excel 文件（.xlsx；已存在时不覆盖，除非加 --force）
    #[arg(long, value_name = "文件")]
    pub xlsx: PathBuf,
    /// 只导出这个单位的任务表（发给该单位填写）
    #[arg(long, value_name = "单位")]
    pub unit: Option<String>,
    /// 覆盖已存在的文件
    #[arg(long)]
    pub force: bool,
}

/// `dossier ocr`.
#[derive(Debug, Args)]
pub struct OcrArgs {
    /// 证据文件（扫描件、照片或扫描的 PDF），如 dossier/evidence/05/通知.jpg；所在的资料目录按路径自动找到
    #[arg(value_name = "证据文件", help_heading = "参数", required = true)]
    pub files: Vec<PathBuf>,
    /// 输出目录（识别结果缓存在这里，与 dossier build 的相同；默认 out）
    #[arg(
        long,
        value_name = "目录",
        default_value = "out",
        hide_default_value = true
    )]
    pub out: PathBuf,
    /// 更正文件已经存在时重新生成（原来的改动会丢失）
    #[arg(long)]
    pub replace: bool,
}

/// `dossier import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// 资料目录（可省略，默认：当前目录下的 dossier）和要导入的 Excel 文件（dossier export
    /// 导出的登记表，或单位填好的任务表）
    #[arg(value_name = "路径", help_heading = "参数", num_args = 1..=2, required = true)]
    pub paths: Vec<PathBuf>,
    /// 写入指标文件（不加则只列出将要发生的变化）
    #[arg(long)]
    pub apply: bool,
    /// Text or JSON lines.
    #[command(flatten)]
    pub output: FormatArg,
}

impl ImportArgs {
    /// The dossier folder: the first of two paths, else `dossier`.
    pub fn dir(&self) -> PathBuf {
        match self.paths.as_slice() {
            [dir, _] => dir.clone(),
            _ => PathBuf::from("dossier"),
        }
    }

    /// The workbook: the last path.
    pub fn file(&self) -> PathBuf {
        self.paths.last().cloned().unwrap_or_default()
    }
}

/// `dossier verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// 要核对的资料包（.zip）
    #[arg(value_name = "资料包", help_heading = "参数")]
    pub package: PathBuf,
    /// Text or JSON lines.
    #[command(flatten)]
    pub output: FormatArg,
}

/// `dossier diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// 旧资料包（.zip）
    #[arg(value_name = "旧资料包", help_heading = "参数", display_order = 1)]
    pub old: PathBuf,
    /// 新资料包（.zip）
    #[arg(value_name = "新资料包", help_heading = "参数", display_order = 2)]
    pub new: PathBuf,
    /// Text or JSON lines.
    #[command(flatten)]
    pub output: FormatArg,
}

/// `dossier templates`.
#[derive(Debug, Args)]
pub struct TemplatesArgs {
    /// The dossier folder.
    #[command(flatten)]
    pub dossier: DossierArg,
}

/// `dossier unpack`.
#[derive(Debug, Args)]
pub struct UnpackArgs {
    /// 资料包（.zip）
    #[arg(value_name = "资料包", help_heading = "参数", display_order = 1)]
    pub package: PathBuf,
    /// 还原到的新目录（必须不存在或为空）
    #[arg(value_name = "目录", help_heading = "参数", display_order = 2)]
    pub dir: PathBuf,
}

/// `dossier init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// 新资料目录的位置（不存在则新建；已存在时必须是空的）
    #[arg(value_name = "目录", help_heading = "参数")]
    pub dir: PathBuf,
    /// 县名，如 宁陵县：写入本县的任务分解表和单位名录（不写则按内置的示例县生成）
    #[arg(long = "县", visible_alias = "county", value_name = "县名")]
    pub county: Option<String>,
}

/// A context value of a clap error as text (lists joined with 、).
fn context_text(e: &clap::Error, kind: clap::error::ContextKind) -> Option<String> {
    use clap::error::ContextValue;
    match e.get(kind) {
        Some(ContextValue::String(s)) => Some(s.clone()),
        Some(ContextValue::Strings(v)) => Some(v.join("、")),
        Some(ContextValue::StyledStr(s)) => Some(s.to_string()),
        _ => None,
    }
}

/// A context value of a clap error as a list.
fn context_list(e: &clap::Error, kind: clap::error::ContextKind) -> Vec<String> {
    use clap::error::ContextValue;
    match e.get(kind) {
        Some(ContextValue::Strings(v)) => v.clone(),
        Some(ContextValue::String(s)) => vec![s.clone()],
        _ => Vec::new(),
    }
}

/// What is wrong on the command line, in one Chinese sentence (without the suggestions).
fn clap_message(e: &clap::Error) -> String {
    use clap::error::{ContextKind, ErrorKind};
    let text = |kind: ContextKind| context_text(e, kind);
    let arg = text(ContextKind::InvalidArg).unwrap_or_default();
    let value = text(ContextKind::InvalidValue).unwrap_or_default();
    match e.kind() {
        ErrorKind::UnknownArgument if arg.starts_with('-') => format!("没有“{arg}”这个选项"),
        ErrorKind::UnknownArgument => format!("多余的参数“{arg}”"),
        ErrorKind::InvalidSubcommand => format!(
            "没有“{}”这个命令",
            text(ContextKind::InvalidSubcommand).unwrap_or_default()
        ),
        ErrorKind::InvalidValue if value.is_empty() => format!("“{arg}”后面要跟一个值"),
        ErrorKind::InvalidValue | ErrorKind::ValueValidation => {
            format!("“{arg}”的值“{value}”不对")
        }
        ErrorKind::TooManyValues => format!("“{arg}”不接受值（写了“{value}”）"),
        ErrorKind::TooFewValues | ErrorKind::WrongNumberOfValues => {
            format!("“{arg}”的值的个数不对")
        }
        ErrorKind::MissingRequiredArgument if arg.contains("--unit") && arg.contains("--all") => {
            "要说明为哪个单位生成：用 --unit 单位名称 生成一个单位的，或用 --all 生成全部单位的"
                .into()
        }
        ErrorKind::MissingRequiredArgument => format!("缺少参数 {arg}"),
        ErrorKind::MissingSubcommand => "请指定要执行的命令".into(),
        ErrorKind::ArgumentConflict => format!(
            "“{arg}”不能和“{}”同时使用",
            text(ContextKind::PriorArg).unwrap_or_default()
        ),
        ErrorKind::NoEquals => format!("“{arg}”的值要用“=”连接"),
        ErrorKind::InvalidUtf8 => "参数里有无法识别的字符（不是 UTF-8 编码）".into(),
        _ => format!("命令行参数不对：{}", e.kind()),
    }
}

/// A command-line error or help request as the user reads it: help and version as clap lays
/// them out (with the last English placeholders translated), errors rewritten in Chinese with
/// clap's did-you-mean suggestions, the usage line and where to find more.
pub fn render_clap_error(e: &clap::Error) -> String {
    use clap::error::{ContextKind, ErrorKind};
    let text = |kind: ContextKind| context_text(e, kind);
    let list = |kind: ContextKind| context_list(e, kind);
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        let rendered = localise(&e.render().to_string());
        return if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
            format!("错误：请指定要执行的命令。\n\n{rendered}")
        } else {
            rendered
        };
    }
    let mut message = clap_message(e);
    let suggested: Vec<String> = list(ContextKind::SuggestedArg)
        .into_iter()
        .chain(list(ContextKind::SuggestedSubcommand))
        .chain(list(ContextKind::SuggestedValue))
        .collect();
    if !suggested.is_empty() {
        message.push_str(&format!("；是不是想写“{}”？", suggested.join("”或“")));
    } else {
        message.push('。');
    }
    let usage = text(ContextKind::Usage)
        .map(|u| localise(&u))
        .unwrap_or_default();
    let usage = usage.trim();
    let command = usage
        .strip_prefix("用法：")
        .and_then(|u| u.split_whitespace().nth(1))
        .filter(|c| !c.starts_with(['<', '[', '-']));
    let more = match command {
        Some(c) => format!("详细用法：dossier {c} --help"),
        None => "详细用法：dossier --help".into(),
    };
    if usage.is_empty() {
        format!("错误：{message}\n\n{more}\n")
    } else {
        format!("错误：{message}\n\n{usage}\n{more}\n")
    }
}

/// Translates the placeholders clap writes in English.
fn localise(text: &str) -> String {
    text.replace("Usage: ", "用法：")
        .replace("[OPTIONS]", "[选项]")
        .replace("<COMMAND>", "<命令>")
        .replace("[default: ", "[默认：")
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn error_of(args: &[&str]) -> String {
        let e = Cli::try_parse_from(std::iter::once("dossier").chain(args.iter().copied()))
            .expect_err("an error");
        render_clap_error(&e)
    }

    #[test]
    fn command_line_errors_are_chinese_with_suggestions() {
        let e = error_of(&["build", "--outt", "x"]);
        assert!(
            e.starts_with("错误：没有“--outt”这个选项；是不是想写“--out”？"),
            "{e}"
        );
        assert!(e.contains("用法：dossier build"), "{e}");
        assert!(e.contains("详细用法：dossier build --help"), "{e}");
        let e = error_of(&["bild"]);
        assert!(
            e.contains("没有“bild”这个命令；是不是想写“binder”或“build”？"),
            "{e}"
        );
        let e = error_of(&["build", "--out"]);
        assert!(e.contains("“--out <目录>”后面要跟一个值"), "{e}");
        let e = error_of(&["binder"]);
        assert!(e.contains("用 --unit 单位名称"), "{e}");
        let e = error_of(&["check", "a", "b"]);
        assert!(e.contains("多余的参数“b”"), "{e}");
        let e = error_of(&["build", "--draft=3"]);
        assert!(e.contains("“--draft”不接受值"), "{e}");
        for e in [
            error_of(&["build", "--outt", "x"]),
            error_of(&["bild"]),
            error_of(&[]),
        ] {
            for english in ["error", "Usage", "tip", "OPTIONS", "COMMAND", "For more"] {
                assert!(!e.contains(english), "{english} in {e}");
            }
        }
    }

    #[test]
    fn help_lists_arguments_in_their_order_in_chinese() {
        let help = |sub: &str| {
            let e = Cli::try_parse_from(["dossier", sub, "--help"]).expect_err("help");
            render_clap_error(&e)
        };
        let diff = help("diff");
        let (old, new) = (
            diff.find("<旧资料包>  ").unwrap(),
            diff.find("<新资料包>  ").unwrap(),
        );
        assert!(old < new, "{diff}");
        let unpack = help("unpack");
        assert!(
            unpack.find("<资料包>  ").unwrap() < unpack.find("<目录>  ").unwrap(),
            "{unpack}"
        );
        for sub in [
            "build", "binder", "check", "diff", "init", "unpack", "verify", "watch",
        ] {
            let h = help(sub);
            for english in ["OPTIONS", "Usage", "default:", "Arguments"] {
                assert!(!h.contains(english), "{sub}: {english} in {h}");
            }
        }
    }

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
