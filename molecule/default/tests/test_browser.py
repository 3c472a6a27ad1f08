"""The chat as a person meets it: two headless Chromium browsers on the deployed stack, under the
Content-Security-Policy nginx sends. A test that fails keeps each browser's screenshot and console
(build/browser/)."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from scenario import PROJECT
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.wait import WebDriverWait
from stack import container_names, wait_until_healthy

testinfra_hosts = ["stack-host"]
ARTIFACTS = PROJECT / "build" / "browser"
WAIT = 15


@pytest.fixture(scope="module")
def base_url(host: Any) -> str:
    return f"https://localhost:{host.ansible.get_variables()['nginx_https_port']}"


def chromium() -> WebDriver:
    options = webdriver.ChromeOptions()
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--disable-background-networking",
        "--ignore-certificate-errors",  # the scenario's self-signed certificate
        "--window-size=1024,768",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # The system's driver: Selenium Manager would look one up online first.
    return webdriver.Chrome(options=options, service=Service("/usr/bin/chromedriver"))


@pytest.fixture
def browsers(request: pytest.FixtureRequest) -> Iterator[dict[str, WebDriver]]:
    opened: dict[str, WebDriver] = {}
    consoles: dict[str, list[dict[str, Any]]] = {}

    def console(name: str) -> list[dict[str, Any]]:
        """Every console entry so far (the driver hands each out once)."""
        consoles.setdefault(name, []).extend(opened[name].get_log("browser"))
        return consoles[name]

    try:
        for name in ("first", "second"):
            opened[name] = chromium()
        request.node.console = console
        yield opened
    finally:
        failed = getattr(request.node, "rep_call", None) is None or request.node.rep_call.failed
        for name, driver in opened.items():
            try:
                if failed:
                    ARTIFACTS.mkdir(parents=True, exist_ok=True)
                    stem = ARTIFACTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '-', request.node.name)}-{name}"
                    driver.save_screenshot(f"{stem}.png")
                    Path(f"{stem}.console.json").write_text(json.dumps(console(name), indent=2))
            finally:
                driver.quit()  # a browser left open keeps its sockets, and the next test sees them


def offline(driver: WebDriver, value: bool) -> None:
    """The browser's network off or on, as a train's tunnel would have it: new connections fail."""
    driver.execute_cdp_cmd(
        "Network.emulateNetworkConditions",
        {"offline": value, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )


def state(driver: WebDriver) -> str:
    return driver.find_element(By.ID, "connection").text


def errors(request: pytest.FixtureRequest, name: str, expected: tuple[str, ...] = ()) -> list[str]:
    """The console's errors (CSP violations, failed loads, script errors), but those expected."""
    return [
        entry["message"]
        for entry in request.node.console(name)
        if entry["level"] == "SEVERE" and not any(text in entry["message"] for text in expected)
    ]


def log_texts(driver: WebDriver) -> list[str]:
    return [item.text for item in driver.find_elements(By.CSS_SELECTOR, "#chat-log li .text")]


def wait_for_text(driver: WebDriver, text: str) -> None:
    WebDriverWait(driver, WAIT).until(lambda page: text in log_texts(page), f"{text!r} in the chat log")


def test_the_policy_allows_no_inline_code(base_url: str) -> None:
    policy = requests.get(f"{base_url}/", verify=False, timeout=10).headers["Content-Security-Policy"]
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "default-src 'self'" in policy


def test_a_room_opened_by_the_form_carries_messages_between_two_browsers_and_keeps_them(
    base_url: str, browsers: dict[str, WebDriver], request: pytest.FixtureRequest
) -> None:
    room = f"browser-{uuid.uuid4().hex[:8]}"
    first, second = browsers["first"], browsers["second"]

    first.get(f"{base_url}/")
    field = first.find_element(By.NAME, "room")
    field.send_keys(room, Keys.ENTER)
    WebDriverWait(first, WAIT).until(
        lambda page: page.current_url.endswith(f"/chat/{room}/"), "the room's page"
    )
    second.get(f"{base_url}/chat/{room}/")

    text = f"hello from the first browser {uuid.uuid4().hex[:6]}"
    first.find_element(By.ID, "chat-message-input").send_keys(text, Keys.ENTER)
    wait_for_text(first, text)
    wait_for_text(second, text)

    second.refresh()
    assert text in log_texts(second), "the history after a reload"
    first.get(f"{base_url}/")
    assert room in [link.text for link in first.find_elements(By.CSS_SELECTOR, "#rooms a")]
    assert errors(request, "first") == [] and errors(request, "second") == []


def test_the_form_refuses_a_name_no_room_can_have_before_it_is_sent(
    base_url: str, browsers: dict[str, WebDriver], request: pytest.FixtureRequest
) -> None:
    first = browsers["first"]
    first.get(f"{base_url}/")
    field = first.find_element(By.NAME, "room")
    field.send_keys("not a room", Keys.ENTER)
    # The browser's own check, by the input's pattern: the page stays, the field says why.
    assert first.execute_script("return arguments[0].validity.patternMismatch", field) is True
    assert first.current_url == f"{base_url}/"
    # A name in another script is a room name, as the server's URL pattern has it.
    field.clear()
    field.send_keys("café", Keys.ENTER)
    WebDriverWait(first, WAIT).until(lambda page: "/chat/caf" in page.current_url, "the room's page")
    assert errors(request, "first") == []


def test_a_browser_away_during_a_restart_reconnects_gets_what_it_missed_and_sends_what_it_kept(
    host: Any, base_url: str, browsers: dict[str, WebDriver], request: pytest.FixtureRequest
) -> None:
    room = f"away-{uuid.uuid4().hex[:8]}"
    first, second = browsers["first"], browsers["second"]
    for driver in (first, second):
        driver.get(f"{base_url}/chat/{room}/")
        WebDriverWait(driver, WAIT).until(lambda page: state(page) == "connected", "connected")
    second.find_element(By.ID, "chat-name-input").send_keys("Second", Keys.TAB)

    # Every app replica restarts (a deploy's roll) while the second browser cannot reach the site.
    second.execute_cdp_cmd("Network.enable", {})
    offline(second, True)
    apps = {
        role: name
        for role, name in container_names(host.ansible.get_variables()).items()
        if role.startswith("app-")
    }
    for name in apps.values():
        host.check_output(f"docker restart {name}")
    wait_until_healthy(host, apps)
    WebDriverWait(second, WAIT).until(
        lambda page: state(page).startswith("offline"), "the second shows it is offline"
    )
    kept = f"typed while away {uuid.uuid4().hex[:6]}"
    second.find_element(By.ID, "chat-message-input").send_keys(kept, Keys.ENTER)
    assert "1 to send" in state(second)

    WebDriverWait(first, 60).until(lambda page: state(page) == "connected", "the first reconnects by itself")
    missed = f"sent while the second was away {uuid.uuid4().hex[:6]}"
    first.find_element(By.ID, "chat-message-input").send_keys(missed, Keys.ENTER)
    wait_for_text(first, missed)

    offline(second, False)
    WebDriverWait(second, 60).until(lambda page: state(page) == "connected", "the second reconnects")
    wait_for_text(second, missed)  # caught up
    wait_for_text(first, kept)  # sent once it was back
    wait_for_text(second, kept)
    assert log_texts(second).index(missed) < log_texts(second).index(kept), "in the order the room got them"
    assert "Second" in [item.text for item in first.find_elements(By.CSS_SELECTOR, "#chat-log .author")]
    # The attempts while the site or the network was away fail, and say so; nothing else does.
    away = ("WebSocket connection to", "ERR_INTERNET_DISCONNECTED", "ERR_NETWORK_CHANGED")
    assert errors(request, "first", away) == [] and errors(request, "second", away) == []
