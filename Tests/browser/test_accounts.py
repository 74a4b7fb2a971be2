"""Signs up, logs out and logs in through the pages, in a real browser, with no JavaScript."""
import unittest

from selenium.webdriver.common.by import By

from fiducia_browser import BrowserTestCase


class AccountPagesTest(BrowserTestCase):
    def test_sign_up_log_out_and_log_in(self):
        email = self.unique_email("ann")
        self.visit("/")
        self.assertIn("Trade with strangers", self.text())

        self.sign_up("Ann", email)
        self.assertIn("Welcome to Fiducia", self.text())
        self.assertIn(email, self.text())

        self.log_out()
        self.assertIn("You are logged out", self.text())
        self.visit("/account")
        self.wait_for_path("/login")

        self.fill("email", email)
        self.fill("password", "correct horse battery")
        self.submit("/login")
        self.wait_for_path("/account")
        self.assertIn(email, self.text())

    def test_invalid_sign_up_shows_errors_and_keeps_input(self):
        self.visit("/signup")
        self.fill("displayName", "Bob")
        self.fill("email", "not-an-email")
        self.fill("password", "short")
        # The browser's own validation would stop this form; turn it off to see the server's answer.
        self.driver.execute_script("document.querySelector('form[action=\"/signup\"]').noValidate = true")
        self.submit("/signup")
        summary = self.driver.find_element(By.CSS_SELECTOR, ".error-summary")
        self.assertIn("email address does not look valid", summary.text)
        self.assertIn("10 to 200 characters", summary.text)
        self.assertEqual(self.driver.find_element(By.ID, "displayName").get_attribute("value"), "Bob")

    def test_wrong_password_is_refused(self):
        email = self.unique_email("carol")
        self.sign_up("Carol", email)
        self.log_out()
        self.visit("/login")
        self.fill("email", email)
        self.fill("password", "not the password")
        self.submit("/login")
        self.assertIn("The email or the password is wrong", self.text())


if __name__ == "__main__":
    unittest.main()
