# %% [markdown]
# # Level 0 · No MLOps: predict the duration of a NYC taxi ride
#
# This is how most ML projects start: one notebook, run top to bottom by hand. It works, and it prints
# a number. Nobody else can tell which data, which code or which parameters made `lin_reg.bin`.
#
# Open it in Jupyter (via jupytext) or VS Code: every `# %%` line starts a cell.

# %%
import pickle
from pathlib import Path

import pandas as pd
from sklearn.feature_extraction import DictVectorizer
from sklearn.linear_model import Lasso, LinearRegression, Ridge
from sklearn.metrics import root_mean_squared_error

# %% tags=["parameters"]
# Hard-coded, as notebooks are. `mlops-levels run 0 --train-data ...` overrides this cell.
TRAIN_DATA = "2021-01"
VAL_DATA = "2021-02"
MODEL = "linear_regression"
MODEL_PATH = None  # None: <workspace>/level_0/lin_reg.bin

# %% [markdown]
# ## Get the data
# A month like "2021-01" comes from the embedded synthetic generator (offline); a path is read as is.
# Where the file comes from is not this level's lesson, so it is one helper call.

# %%
from common.config import Settings  # noqa: E402
from common.sources import resolve_data  # noqa: E402

settings = Settings()
train_file = resolve_data(TRAIN_DATA, settings).path
val_file = resolve_data(VAL_DATA, settings).path
print(f"train: {train_file}\nval:   {val_file}")


# %%
def read_dataframe(filename):
    df = pd.read_parquet(filename)

    df["duration"] = df.lpep_dropoff_datetime - df.lpep_pickup_datetime
    df.duration = df.duration.dt.total_seconds() / 60

    df = df[(df.duration >= 1) & (df.duration <= 60)]

    categorical = ["PULocationID", "DOLocationID"]
    df[categorical] = df[categorical].astype(str)
    return df


df_train = read_dataframe(train_file)
df_val = read_dataframe(val_file)
len(df_train), len(df_val)

# %% [markdown]
# ## Features: the pickup-dropoff pair and the distance

# %%
df_train["PU_DO"] = df_train["PULocationID"] + "_" + df_train["DOLocationID"]
df_val["PU_DO"] = df_val["PULocationID"] + "_" + df_val["DOLocationID"]

categorical = ["PU_DO"]
numerical = ["trip_distance"]

dv = DictVectorizer()

train_dicts = df_train[categorical + numerical].to_dict(orient="records")
X_train = dv.fit_transform(train_dicts)

val_dicts = df_val[categorical + numerical].to_dict(orient="records")
X_val = dv.transform(val_dicts)

target = "duration"
y_train = df_train[target].values
y_val = df_val[target].values

# %% [markdown]
# ## Train and evaluate

# %%
models = {"linear_regression": LinearRegression(), "lasso": Lasso(alpha=0.001), "ridge": Ridge(alpha=1.0)}
lr = models[MODEL]
lr.fit(X_train, y_train)

rmse_train = root_mean_squared_error(y_train, lr.predict(X_train))
rmse_val = root_mean_squared_error(y_val, lr.predict(X_val))
print(f"RMSE train: {rmse_train:.4f}")
print(f"RMSE val:   {rmse_val:.4f}")

# %% [markdown]
# ## Save the model
# A pickle on disk. Which data? Which code? Which parameters? Only the person who ran it knows.

# %%
MODEL_PATH = Path(MODEL_PATH or settings.level_dir(0) / "lin_reg.bin")
MODEL_PATH.parent.mkdir(parents=True, exist_ok=True)
with open(MODEL_PATH, "wb") as f_out:
    pickle.dump((dv, lr), f_out)
print(f"saved {MODEL_PATH}")
