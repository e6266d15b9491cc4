//! Dataset flags shared by the commands that evaluate models.

use anyhow::{Context, Result, bail};
use zoo_data::{DataSource, Dataset, LoadOptions};
use zoo_train::ModelCard;

/// Where the data comes from.
#[derive(clap::Args)]
pub struct DataArgs {
    /// `mnist` (the embedded digits) or a dataset path; must be the data the model was
    /// trained on.
    #[arg(long, default_value = "mnist")]
    pub dataset: String,
}

/// Loads the dataset for a model and checks it is the one the model was trained on.
/// The validation split is carved with the training seed, so it is the same held-out data.
pub fn load_for_card(args: &DataArgs, card: &ModelCard) -> Result<Dataset> {
    let source = DataSource::parse(&args.dataset)?;
    let size = (card.dataset.height, card.dataset.width);
    let options = LoadOptions { seed: card.seed, image_size: Some(size), ..Default::default() };
    let data = zoo_data::load(&source, &options)
        .with_context(|| format!("loading dataset `{}`", args.dataset))?;
    if data.info.name != card.dataset.name || data.info.labels != card.dataset.labels {
        bail!(
            "dataset `{}` ({} classes) is not the one the model was trained on (`{}`, {} classes)\n\
             hint: pass --dataset with the training data",
            data.info.name,
            data.info.labels.len(),
            card.dataset.name,
            card.dataset.labels.len()
        );
    }
    Ok(data)
}
