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
    /// 核对资料包：逐个重新计算 SHA-256，与清单比对，报告缺少、多出和被改动的文件
    #[command(help_template = HELP_TEMPLATE, next_help_heading = "选项")]
    Verify(VerifyArgs),
    /// 还原资料包：把登记文件和证据原件按原路径放回一个新目录，可以再次生成汇编
    #[command(help_template = HELP_TEMPLATE, next_help_heading = "选项")]
    Unpack(UnpackArgs),
}

/// Arguments shared by every command that reads a dossier.
#[derive(Debug, Args)]
pub struct DossierArg {
    /// 资料目录（默认：当前目录下的 dossier）
    #[arg(value_name = "目录", default_value = "dossier")]
    pub dir: PathBuf,
}

/// `dossier check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub dossier: DossierArg,
}

/// `dossier build`.
#[derive(Debug, Args)]
pub struct BuildArgs {
    #[command(flatten)]
    pub dossier: DossierArg,
    /// 输出目录（默认 out；不存在则新建）
    #[arg(long, value_name = "目录", default_value = "out")]
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
}

/// `dossier binder`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("which").required(true).args(["unit", "all"])))]
pub struct BinderArgs {
    #[command(flatten)]
    pub dossier: DossierArg,
    /// 单位名称（单位名录里的名称、简称或别名均可）
    #[arg(long, value_name = "单位")]
    pub unit: Option<String>,
    /// 为每个有任务或有材料的单位各生成一本（并行）
    #[arg(long)]
    pub all: bool,
    /// 输出目录（证据册写在其中的 binders 文件夹；默认 out）
    #[arg(long, value_name = "目录", default_value = "out")]
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
}

/// `dossier verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// 要核对的资料包（.zip）
    #[arg(value_name = "资料包")]
    pub package: PathBuf,
}

/// `dossier diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// 旧资料包（.zip）
    #[arg(value_name = "旧资料包")]
    pub old: PathBuf,
    /// 新资料包（.zip）
    #[arg(value_name = "新资料包")]
    pub new: PathBuf,
}

/// `dossier unpack`.
#[derive(Debug, Args)]
pub struct UnpackArgs {
    /// 资料包（.zip）
    #[arg(value_name = "资料包")]
    pub package: PathBuf,
    /// 还原到的新目录（必须不存在或为空）
    #[arg(value_name = "目录")]
    pub dir: PathBuf,
}

/// `dossier init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// 新资料目录的位置（不存在则新建；已存在时必须是空的）
    #[arg(value_name = "目录")]
    pub dir: PathBuf,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
