"""``client.analytics``'s providers against a real augury server over HTTP, the model
being the local OpenAI-compatible server the test starts."""

from __future__ import annotations

import pytest

from augury.client import Client, ConflictError, NotFoundError, ServerError
from tests.analytics.test_providers import BY_REGION, SALES
from tests.fixtures.llm_server import FakeLLM

PASSWORD = "correct horse battery"


@pytest.fixture
def llm():
    with FakeLLM() as fake:
        yield fake


def test_configure_test_ask_through_and_remove_a_provider(live_server, tmp_path, llm):
    path = tmp_path / "sales.csv"
    path.write_text(SALES)
    llm.answer("total units by region", BY_REGION)
    llm.answer("mean price", text="no idea")
    with Client(live_server.url, timeout=60) as c:
        c.signup("llm@example.com", PASSWORD, organization_name="Models")
        c.datasets.upload(path)
        provider = c.analytics.create_provider(
            "local", llm.url, "tiny-1", api_key="sk-client-0123456789", is_default=True
        )
        assert provider["has_key"] and provider["key_hint"] == "6789"
        with pytest.raises(ConflictError):
            c.analytics.create_provider("local", llm.url, "tiny-1")

        assert c.analytics.test_provider(provider["id"])["ok"] is True
        answer = c.analytics.ask("total units by region", "sales", engine=provider["id"])
        assert answer["engine"] == "provider:local" and answer["rows"][0] == ["North", 9]
        assert c.analytics.ask("mean price", "sales", engine="auto")["engine"] == "offline"
        with pytest.raises(ServerError) as caught:
            c.analytics.ask("mean price", "sales", engine=provider["id"])
        assert caught.value.code == "PROVIDER_ERROR" and caught.value.status == 502

        changed = c.analytics.update_provider(provider["id"], api_key=None, model="tiny-2")
        assert changed["has_key"] is False and changed["model"] == "tiny-2"
        assert [p["name"] for p in c.analytics.list_providers()["items"]] == ["local"]
        assert [m["model_id"] for m in c.analytics.models()] == ["augury-offline", "tiny-2"]
        c.analytics.delete_provider(provider["id"])
        with pytest.raises(NotFoundError):
            c.analytics.get_provider(provider["id"])
