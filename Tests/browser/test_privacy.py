"""Transparency and a person's data, through the pages in a real browser: the monthly reports with
their charts, anonymous feedback, downloading everything Fiducia holds about you as a ZIP, and
deleting the account."""
import glob
import json
import os
import tempfile
import time
import zipfile

from selenium.webdriver.common.by import By

from fiducia_browser import BrowserTestCase, make_driver


class TransparencyTest(BrowserTestCase):
    def test_the_reports_page_charts_the_months(self):
        self.visit("/transparency")
        charts = self.driver.find_elements(By.CSS_SELECTOR, "figure.chart-figure svg")
        self.assertGreaterEqual(len(charts), 3)
        # Each chart draws a bar per month the demo has a report for, and says what it shows.
        bars = charts[0].find_elements(By.TAG_NAME, "rect")
        rows = self.driver.find_elements(By.CSS_SELECTOR, "#reports tbody tr")
        self.assertEqual(len(bars), len(rows))
        self.assertGreaterEqual(len(rows), 6)
        self.assertTrue(charts[0].is_displayed())
        self.assertIn("Orders paid into escrow", self.text())
        latest = self.driver.find_element(By.ID, "latest-report").text
        self.assertIn("Anonymous feedback received", latest)
        # The same figures as JSON, from the page's own link.
        self.click_and_wait(self.driver.find_element(By.ID, "reports-json"))
        items = json.loads(self.driver.find_element(By.TAG_NAME, "body").text)["items"]
        self.assertEqual(len(items), len(rows))

    def test_feedback_needs_no_account(self):
        self.visit("/feedback")
        self.driver.find_element(By.CSS_SELECTOR, "#feedback-topic option[value='safety']").click()
        self.fill("feedback-text", "The escrow explanation on the order page helped me.")
        self.submit("/feedback")
        self.wait_for_text("nothing about you was kept")


class DataRightsTest(BrowserTestCase):
    def setUp(self):
        self.downloads = tempfile.mkdtemp(prefix="fiducia-downloads-")
        self.driver = make_driver(downloads=self.downloads)

    def test_download_everything_then_delete_the_account(self):
        email = self.unique_email("erin")
        self.sign_up("Erin", email)
        self.visit("/privacy")
        holdings = self.driver.find_element(By.ID, "holdings").text
        self.assertIn("privacy-acceptances", holdings)
        self.assertIn("version 1", self.driver.find_element(By.CSS_SELECTOR, ".accepted").text)

        self.driver.find_element(By.ID, "download-data").click()
        deadline = time.time() + 15
        archives = []
        while time.time() < deadline:
            archives = [f for f in glob.glob(os.path.join(self.downloads, "*.zip"))]
            if archives and not glob.glob(os.path.join(self.downloads, "*.crdownload")):
                break
            time.sleep(0.2)
        self.assertEqual(len(archives), 1, "the browser saved one ZIP")
        self.assertTrue(os.path.basename(archives[0]).startswith("fiducia-data-usr_"))
        with zipfile.ZipFile(archives[0]) as archive:
            self.assertIsNone(archive.testzip())
            account = json.loads(archive.read("account.json"))
            self.assertEqual(account["email"], email)
            self.assertEqual(account["privacyNotices"][0]["version"], 1)
            self.assertIn("records/orders.json", archive.namelist())
            self.assertIn("Left out on purpose", archive.read("README.txt").decode())

        # Deleting asks for a typed confirmation, then signs the person out for good.
        self.visit("/privacy")
        self.fill("confirm", "DELETE")
        self.submit("/privacy/delete")
        self.wait_for_text("Your account is deleted")
        self.visit("/login")
        self.fill("email", email)
        self.fill("password", "correct horse battery")
        self.submit("/login")
        self.assertIn("/login", self.driver.current_url)
        self.assertIn("The email or the password is wrong", self.text())
