import json

import pytest

from ad_click import inference

USER = {"user_id": "u000001", "age_group": "25-34", "country": "US"}
CONTEXT = {"device": "mobile", "placement": "feed", "hour_of_day": 13, "day_of_week": "tue"}
ADS = [{"ad_id": f"ad{i:05d}", "advertiser_id": f"adv{i % 50:03d}", "ad_category": "travel"} for i in range(100)]


@pytest.fixture(scope="module")
def model(trained_job):
    return inference.model_fn(trained_job["model_dir"])


def ask(model, body, content_type="application/json", accept="application/json"):
    payload = body if isinstance(body, (str, bytes)) else json.dumps(body)
    data = inference.input_fn(payload, content_type)
    return json.loads(inference.output_fn(inference.predict_fn(data, model), accept))


def request(**changes):
    body = {"user": dict(USER), "context": dict(CONTEXT), "candidates": [dict(ad) for ad in ADS[:5]]}
    body.update(changes)
    return body


def test_one_probability_per_candidate_in_their_order(model):
    response = ask(model, request())
    assert set(response) == {"probabilities", "model_version"} and response["model_version"] == "ad-click-test-1"
    assert len(response["probabilities"]) == 5 and all(0 < p < 1 for p in response["probabilities"])
    reversed_ = ask(model, request(candidates=[dict(ad) for ad in reversed(ADS[:5])]))
    assert reversed_["probabilities"] == list(reversed(response["probabilities"]))
    assert len(ask(model, request(candidates=ADS))["probabilities"]) == 100


def test_integer_and_string_values_are_the_same_value(model):
    as_string = ask(model, request(context=dict(CONTEXT, hour_of_day="13")))
    assert as_string == ask(model, request())


def test_unseen_and_empty_values_score_alike(model):
    unseen = ask(model, request(user=dict(USER, user_id="never-seen-user")))
    empty = ask(model, request(user=dict(USER, user_id="")))
    assert unseen == empty


@pytest.mark.parametrize("body, fragment", [
    (request(candidates=ADS + [ADS[0]]), "'candidates' holds 101 items; 1 to 100 are allowed"),
    (request(candidates=[]), "'candidates' holds 0 items"),
    (request(candidates={"ad_id": "ad1"}), "'candidates' must be a list, got dict"),
    ({"user": USER, "context": CONTEXT}, "'candidates' is required"),
    (request(user={"user_id": "u1", "age_group": "25-34"}), "'user.country' is required"),
    ({"context": CONTEXT, "candidates": ADS[:1]}, "'user' is required"),
    (request(user=["u1"]), "'user' must be an object, got list"),
    (request(context=dict(CONTEXT, hour_of_day=13.5)), "'context.hour_of_day' must be a string or an integer, got float"),
    (request(context=dict(CONTEXT, device=True)), "'context.device' must be a string or an integer, got bool"),
    (request(context=dict(CONTEXT, placement=None)), "'context.placement' must be a string or an integer, got NoneType"),
    (request(candidates=[ADS[0], {"ad_id": "ad1", "ad_category": "travel"}]), "'candidates[1].advertiser_id' is required"),
    (request(candidates=[ADS[0], "ad1"]), "'candidates[1]' must be an object, got str"),
    (request(user=dict(USER, user_id="x" * 257)), "'user.user_id' is longer than 256 characters"),
    ([USER], "must be a JSON object"),
])
def test_bad_requests_are_400_value_errors_naming_the_field(model, body, fragment):
    with pytest.raises(ValueError) as info:
        ask(model, body)
    assert isinstance(info.value, inference.RequestError) and info.value.status_code == 400
    assert fragment in str(info.value)


@pytest.mark.parametrize("body, content_type, accept, status, fragment", [
    ("{}", "text/csv", "application/json", 415, "unsupported content type"),
    ("{not json", "application/json", "application/json", 400, "not valid JSON"),
    ('{"user": NaN}', "application/json", "application/json", 400, "NaN is not a JSON value"),
    (b"\xff\xfe", "application/json", "application/json", 400, "not valid UTF-8"),
    (json.dumps(request()), "application/json", "text/csv", 406, "unsupported accept type"),
])
def test_bad_bodies_and_headers(model, body, content_type, accept, status, fragment):
    with pytest.raises(inference.RequestError) as info:
        ask(model, body, content_type, accept)
    assert info.value.status_code == status and fragment in str(info.value)


def test_bytes_body_and_parameters_in_content_type(model):
    body = json.dumps(request()).encode()
    assert ask(model, body, "application/json; charset=utf-8", "*/*") == ask(model, request())


def test_constant_model_of_a_fresh_deployment_answers_its_rate_for_every_candidate(tmp_path):
    # The bootstrap artefact the deployment writes before any training: a manifest and no model.pt.
    (tmp_path / "manifest.json").write_text(json.dumps(
        {"format": "ad-click-ctr/1", "model_type": "constant", "ctr": 0.031, "model_version": "bootstrap"}))
    model = inference.model_fn(str(tmp_path))
    assert ask(model, request()) == {"probabilities": [0.031] * 5, "model_version": "bootstrap"}
    # Without request groups it checks the shape and the values it is given.
    with pytest.raises(inference.RequestError, match="'candidates' holds 101 items"):
        ask(model, request(candidates=ADS + [ADS[0]]))
    with pytest.raises(inference.RequestError, match="'context.hour_of_day' must be a string or an integer"):
        ask(model, request(context=dict(CONTEXT, hour_of_day=1.5)))
    for ctr in (0, 1.5, "0.03", None):
        (tmp_path / "manifest.json").write_text(json.dumps(
            {"format": "ad-click-ctr/1", "model_type": "constant", "ctr": ctr, "model_version": "bootstrap"}))
        with pytest.raises(ValueError, match="must be a number between 0 and 1"):
            inference.model_fn(str(tmp_path))
