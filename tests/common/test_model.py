from __future__ import annotations

import numpy as np
import pytest
from sklearn.feature_extraction import DictVectorizer
from sklearn.linear_model import LinearRegression

from common.errors import DataError, UsageError
from common.features import prepare_features
from common.model import evaluate, load_model, model_names, predict, rmse, save_model, train


def test_encoder_gives_the_course_dictvectorizer_predictions(prepared):
    train_df, val_df = prepared["2021-01"], prepared["2021-02"]
    dv = DictVectorizer()
    x_train = dv.fit_transform([prepare_features(r) for r in train_df.to_dict("records")])
    course = LinearRegression().fit(x_train, train_df.duration.to_numpy())
    expected = course.predict(dv.transform([prepare_features(r) for r in val_df.to_dict("records")]))

    actual = predict(train(train_df), val_df)

    assert np.allclose(actual, expected, atol=0.05)
    assert abs(rmse(val_df.duration, actual) - rmse(val_df.duration, expected)) < 0.01


def test_linear_model_beats_predicting_the_mean(prepared, trained_model):
    val_df = prepared["2021-02"]
    baseline = rmse(val_df.duration, np.full(len(val_df), prepared["2021-01"].duration.mean()))
    assert evaluate(trained_model, val_df) < 0.8 * baseline


@pytest.mark.parametrize("name", model_names())
def test_every_model_in_the_factory_trains_and_predicts(prepared, name):
    model = train(prepared["2021-01"], name)
    predictions = predict(model, prepared["2021-02"])
    assert predictions.shape == (len(prepared["2021-02"]),)
    assert np.isfinite(predictions).all()


def test_separate_pu_and_do_features_are_worse_than_the_pair(prepared):
    pair = evaluate(train(prepared["2021-01"], feature_set="pu_do"), prepared["2021-01"])
    separate = evaluate(train(prepared["2021-01"], feature_set="pu_and_do"), prepared["2021-01"])
    assert pair < separate


def test_a_list_of_ride_dicts_predicts_like_a_dataframe(prepared, trained_model):
    rows = prepared["2021-02"].head(5)
    rides = rows[["PULocationID", "DOLocationID", "trip_distance"]].to_dict("records")
    assert np.allclose(predict(trained_model, rides), predict(trained_model, rows))


def test_unseen_pair_still_gets_a_prediction(trained_model):
    ride = {"PULocationID": 1, "DOLocationID": 265, "trip_distance": 3.0}
    assert np.isfinite(predict(trained_model, [ride])).all()


def test_save_and_load_round_trip(tmp_path, prepared, trained_model):
    path = save_model(trained_model, tmp_path / "m" / "model.bin")
    assert np.allclose(predict(load_model(path), prepared["2021-02"]), predict(trained_model, prepared["2021-02"]))


def test_loading_a_non_model_is_a_data_error(tmp_path):
    bad = tmp_path / "model.bin"
    bad.write_bytes(b"not a pickle")
    with pytest.raises(DataError, match="not a model file"):
        load_model(bad)


def test_unknown_model_name_is_a_usage_error(prepared):
    with pytest.raises(UsageError, match="unknown model"):
        train(prepared["2021-01"], "xgboost")
