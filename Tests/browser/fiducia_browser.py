"""Shared set-up for the browser tests: a real Fiducia server and a real headless Chromium."""
import os
import unittest
import uuid

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

BASE_URL = os.environ.get("FIDUCIA_BASE_URL", "http://127.0.0.1:8080")


def make_driver(downloads=None):
    """A headless Chromium; elements are waited for up to 5 seconds before a lookup fails. Files
    it downloads go to the folder `downloads` when given."""
    options = webdriver.ChromeOptions()
    options.binary_location = os.environ.get("CHROMIUM_BINARY", "/usr/bin/chromium")
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1200,900"):
        options.add_argument(argument)
    if downloads:
        options.add_experimental_option("prefs", {"download.default_directory": downloads, "download.prompt_for_download": False})
    service = Service(executable_path=os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver"))
    driver = webdriver.Chrome(service=service, options=options)
    driver.implicitly_wait(5)
    return driver


class BrowserTestCase(unittest.TestCase):
    """Each test gets a fresh browser (fresh cookies) against the one server."""

    def setUp(self):
        self.driver = make_driver()

    def tearDown(self):
        self.driver.quit()

    @property
    def wait(self):
        # Bound to whichever browser the test is driving now (a test may switch between two).
        return WebDriverWait(self.driver, 10)

    def visit(self, path):
        self.driver.get(BASE_URL + path)

    def fill(self, field_id, value):
        element = self.driver.find_element(By.ID, field_id)
        element.clear()
        element.send_keys(value)

    def click_and_wait(self, element):
        """Clicks (a submit button) and waits until the next page has replaced this one."""
        page = self.driver.find_element(By.TAG_NAME, "html")
        element.click()
        self.wait.until(lambda driver: self._is_gone(page))

    @staticmethod
    def _is_gone(element):
        # Chromium reports an element of a page being replaced either as stale or, mid-navigation,
        # as a node that "does not belong to the document"; both mean the next page is coming.
        try:
            element.is_enabled()
            return False
        except StaleElementReferenceException:
            return True
        except WebDriverException as error:
            if "does not belong to the document" in str(error):
                return True
            raise

    def submit(self, form_action):
        self.click_and_wait(self.driver.find_element(By.CSS_SELECTOR, f'form[action="{form_action}"] button[type="submit"]'))

    def press(self, css):
        self.click_and_wait(self.driver.find_element(By.CSS_SELECTOR, css))

    def wait_for_path(self, path):
        self.wait.until(expected_conditions.url_contains(path))

    def wait_for_text(self, text):
        """Waits until the page shows `text` (after a form post the old page lingers a moment)."""
        self.wait.until(lambda driver: text in driver.find_element(By.TAG_NAME, "body").text)

    def text(self):
        return self.driver.find_element(By.TAG_NAME, "body").text

    @staticmethod
    def unique_email(name):
        return f"{name}-{uuid.uuid4().hex[:8]}@example.com"

    def sign_up(self, name, email, password="correct horse battery", seller=False):
        self.visit("/signup")
        self.fill("displayName", name)
        self.fill("email", email)
        self.fill("password", password)
        if seller:
            self.driver.find_element(By.NAME, "seller").click()
        self.driver.find_element(By.ID, "privacyNotice").click()
        self.submit("/signup")
        self.wait_for_path("/account")

    def log_in(self, email, password="correct horse battery"):
        self.visit("/login")
        self.fill("email", email)
        self.fill("password", password)
        self.submit("/login")
        self.wait_for_path("/account")

    def log_out(self):
        self.press('form[action="/logout"] button')
